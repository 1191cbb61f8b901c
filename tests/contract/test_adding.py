"""Adding a metric is one class and one YAML, adding a system the same (issue 18 item 7): written into a
temporary config tree and a module outside mteval, both are scored, written, ranked, compared, gated and
reported with no other edit."""
from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.helpers import ROOT

BIN = Path(sys.executable).parent

METRIC = '''
"""A metric added by a user: the hypothesis' length over the source's, in characters."""
from mteval.metrics.base import Metric
from mteval.types import MetricResult


class LengthRatio(Metric):
    """Hypothesis characters per source character (a crude over/under-translation signal)."""

    higher_is_better = True
    needs_ref = False
    needs_src = True
    min_effect = 0.05

    def __init__(self, *, name: str = "length_ratio", scale: float = 1.0):
        self.name = name
        self.scale = scale

    def _score(self, hyps, refs, srcs, *, tgt_lang):
        ratios = [self.scale * len(h) / max(1, len(s)) for h, s in zip(hyps, srcs)]
        return MetricResult(self.name, sum(ratios) / len(ratios), f"length_ratio|scale:{self.scale:g}",
                            segment_scores=ratios)
'''

SYSTEM = '''
"""A system added by a user: every source, upper-cased."""
from mteval.systems.base import System
from mteval.types import Translation


class Shout(System):
    """Upper-case each source (a deterministic stand-in for a real model)."""

    def __init__(self, *, name: str = "shout"):
        self.name = name

    def translate(self, sources, *, src_lang, tgt_lang):
        return Translation([s.upper() for s in sources])
'''


@pytest.fixture
def added(tmp_path):
    """A copy of conf/ with one new metric YAML and one new system YAML, and their module."""
    conf = tmp_path / "conf"
    shutil.copytree(ROOT / "conf", conf)
    (conf / "metrics" / "length_ratio.yaml").write_text("# @package metrics.length_ratio\n"
                                                        "_target_: user_metrics.LengthRatio\n"
                                                        "name: length_ratio\nscale: 1.0\n", encoding="utf-8")
    (conf / "system" / "shout.yaml").write_text("_target_: user_systems.Shout\nname: shout\n", encoding="utf-8")
    code = tmp_path / "code"
    code.mkdir()
    (code / "user_metrics.py").write_text(textwrap.dedent(METRIC).lstrip(), encoding="utf-8")
    (code / "user_systems.py").write_text(textwrap.dedent(SYSTEM).lstrip(), encoding="utf-8")
    data = tmp_path / "data"
    data.mkdir()
    (data / "src.en").write_text("".join(f"Sentence number {i} is about evaluation.\n" for i in range(12)),
                                 encoding="utf-8")
    (data / "ref.zh").write_text("".join(f"第{i}句话是关于评测的。\n" for i in range(12)), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(code), os.environ.get("PYTHONPATH", "")]),
           "HF_HUB_OFFLINE": "1"}
    return conf, data, env


def mteval(conf: Path, data: Path, env: dict, run: Path, *overrides: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "mteval"), "--config-path", str(conf), "dataset=files",
                           f"dataset.load.src={data / 'src.en'}", f"dataset.load.refs=[{data / 'ref.zh'}]",
                           "cache=null", f"hydra.run.dir={run}", f"leaderboard={run.parent / 'leaderboard.csv'}",
                           *overrides], capture_output=True, text=True, env=env, timeout=300)


def test_a_new_metric_and_system_go_everywhere_with_one_class_and_one_yaml_each(added, tmp_path):
    conf, data, env = added
    runs = tmp_path / "runs"
    copy = mteval(conf, data, env, runs / "copy", "system=copy", "metrics=[bleu,length_ratio]")
    assert copy.returncode == 0, copy.stderr[-3000:]
    shout = mteval(conf, data, env, runs / "shout", "system=shout", "metrics=[bleu,length_ratio]")
    assert shout.returncode == 0, shout.stderr[-3000:]

    scores = json.loads((runs / "shout" / "scores.json").read_text(encoding="utf-8"))
    assert scores["system"] == "shout"
    entry = scores["metrics"]["length_ratio"]
    assert entry["signature"] == "length_ratio|scale:1" and entry["score"] == pytest.approx(1.0)
    rows = list(csv.DictReader((runs / "leaderboard.csv").open(encoding="utf-8")))
    assert [r["system"] for r in rows] == ["copy", "shout"]
    assert all(r.get("length_ratio") and r["sig"] for r in rows), rows[0]

    compared = subprocess.run([str(BIN / "mteval-compare"), str(runs / "copy"), str(runs / "shout"), "--baseline",
                               "copy", "--out", str(tmp_path / "compare")], capture_output=True, text=True,
                              env=env, timeout=300)
    assert compared.returncode == 0, compared.stderr[-3000:]
    report = (tmp_path / "compare" / "report.md").read_text(encoding="utf-8")
    assert "length_ratio" in report and "length_ratio|scale:1" in report

    baseline = tmp_path / "baseline.json"
    wrote = subprocess.run([str(BIN / "mteval-gate"), "--write-baseline", str(runs / "copy"), "--out", str(baseline)],
                           capture_output=True, text=True, env=env, timeout=300)
    assert wrote.returncode == 0, wrote.stderr[-3000:]
    gated = subprocess.run([str(BIN / "mteval-gate"), "--baseline", str(baseline), "--current", str(runs / "shout")],
                           capture_output=True, text=True, env=env, timeout=300)
    assert gated.returncode in (0, 1), gated.stderr[-3000:]  # judged, not refused
    assert "length_ratio" in gated.stdout
