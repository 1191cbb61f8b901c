"""`mteval --help` explains what a run is, lists only the groups mteval uses, and shows examples."""
from __future__ import annotations

import subprocess

from tests.helpers import MTEVAL, ROOT


def test_help_is_mteval_s_own():
    out = subprocess.run([MTEVAL, "--help"], capture_output=True, text=True, cwd=ROOT, timeout=120, check=True).stdout
    assert out.startswith("mteval: evaluate machine translation")
    assert "powered by Hydra" not in out
    groups = {line.split(":")[0] for line in out.splitlines() if line.split(":")[0] in
              {"dataset", "system", "metrics", "experiment", "gate"}}
    assert groups == {"dataset", "system", "metrics", "experiment"}  # the gate's config is not an mteval group
    assert "wmt22_en_zh" in out and "metricx_qe" in out and "opus_mt_en_zh" in out
    assert out.count("\n  mteval ") >= 3  # examples


def test_argparse_help_shows_plain_percent_signs():
    """A description is printed as written (argparse %-formats only help strings): `95%%` once showed doubled."""
    from mteval.commands import compare, score

    for module in (compare, score):
        text = module.parser().format_help()
        assert "%%" not in text and "95% bootstrap" in text, module.__name__


def test_sacrebleu_flags_point_to_mteval_score():
    proc = subprocess.run([MTEVAL, "-t", "wmt22", "-l", "en-zh", "-i", "hyp.zh"], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    (line,) = proc.stderr.splitlines()
    assert line.startswith("mteval: error: mteval takes Hydra overrides") and "mteval-score -t wmt22" in line
