"""The gate on WMT22 en-zh (the demo's numbers): Online-G against a LanguageX baseline is a regression, LanguageX
against itself passes, another BLEU tokenizer is refused; through the CLI and in-process."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mteval.commands.gate import main
from mteval.gate.baseline import load_baseline, write_baseline
from mteval.metrics.sacre import BLEU, ChrF
from mteval.results.io import write_run
from mteval.testing.runs import text_run
from tests.helpers import wmt22_lines


def gate(capsys, *argv: str) -> tuple[int, str, str]:
    """Run the CLI entry point in-process; (exit status, stdout, stderr)."""
    with pytest.raises(SystemExit) as ex:
        main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return ex.value.code, out, err


@pytest.fixture(scope="module")
def wmt22_runs(wmt22, tmp_path_factory) -> dict[str, Path]:
    """WMT22 en-zh runs of two submissions (read through sacrebleu), LanguageX scored with BLEU's 13a
    tokenizer, and a baseline written from the LanguageX run (what `make baseline` does)."""
    from mteval.data.sacrebleu_sets import load_sacrebleu
    from mteval.pipeline import evaluate
    from mteval.systems.submission import wmt_submission

    root = tmp_path_factory.mktemp("wmt22")
    corpus = load_sacrebleu(name="wmt22_en_zh", test_set="wmt22", langpair="en-zh", translators=["A"])
    runs = {}
    for label, submission, bleu in (("LanguageX", "LanguageX", BLEU(zh_punct="none")),
                                    ("Online-G", "Online-G", BLEU(zh_punct="none")),
                                    ("13a", "LanguageX", BLEU(tokenize="13a", zh_punct="none"))):
        system = wmt_submission(submission=submission, test_set="wmt22", langpair="en-zh")
        runs[label] = write_run(root / label, evaluate(corpus, system, [bleu, ChrF(zh_punct="none")]))
    runs["baseline"] = write_baseline(runs["LanguageX"], root / "wmt22_en_zh_LanguageX.json")
    return runs


@pytest.mark.slow
def test_baseline_written_from_a_run(wmt22_runs):
    base = load_baseline(wmt22_runs["baseline"])
    assert wmt22_runs["baseline"].stat().st_size < 2_000_000
    assert (base.dataset, base.system, len(base.ids)) == ("wmt22_en_zh", "LanguageX", 2037)
    assert base.metrics["bleu"]["score"] == pytest.approx(54.346, abs=1e-3)  # sacrebleu -t wmt22 -l en-zh


def _gate_cli(tmp_path: Path, current: Path, baseline: Path) -> tuple[int, str, str]:
    proc = subprocess.run(
        [sys.executable, "-m", "mteval.commands.gate", "--baseline", str(baseline), "--current", str(current),
         "--summary-md", str(tmp_path / "gate.md"), "--junit", str(tmp_path / "gate.xml")],
        capture_output=True, text=True, timeout=300,
    )
    assert "Traceback" not in proc.stderr
    return proc.returncode, proc.stdout, (tmp_path / "gate.md").read_text(encoding="utf-8")


@pytest.mark.slow
def test_wmt22_online_g_against_languagex_fails(wmt22_runs, tmp_path):
    code, out, md = _gate_cli(tmp_path, wmt22_runs["Online-G"], wmt22_runs["baseline"])
    assert code == 1, out
    assert "FAIL" in md and md.count("**FAIL**") == 2


@pytest.mark.slow
def test_wmt22_languagex_against_itself_passes(wmt22_runs, tmp_path):
    code, out, md = _gate_cli(tmp_path, wmt22_runs["LanguageX"], wmt22_runs["baseline"])
    assert code == 0, out
    assert md.startswith("## mteval quality gate: PASS")


@pytest.mark.slow
def test_wmt22_other_bleu_tokenizer_is_refused(wmt22_runs, tmp_path):
    code, out, md = _gate_cli(tmp_path, wmt22_runs["13a"], wmt22_runs["baseline"])
    assert code == 2, out
    assert "bleu signatures differ" in md and "tok:13a" in md


@pytest.mark.slow
def test_wmt22_worse_submission_fails_and_baseline_passes(wmt22, tmp_path, capsys):
    """WMT22 en-zh, in-process: Online-G against a LanguageX baseline is a real regression (exit 1),
    LanguageX against its own baseline passes (exit 0); the demo `make gate` shows both."""
    srcs, refs = wmt22_lines("en-zh", "src"), wmt22_lines("en-zh", "ref:A")
    runs = {name: text_run(tmp_path / name, wmt22_lines("en-zh", name), refs,
                           srcs=srcs, metrics=[BLEU(zh_punct="none"), ChrF(zh_punct="none")], dataset="wmt22_en_zh")
            for name in ("LanguageX", "Online-G")}
    base = tmp_path / "base.json"
    assert gate(capsys, "--write-baseline", runs["LanguageX"], "--out", base)[0] == 0
    code, out, _ = gate(capsys, "--baseline", base, "--current", runs["Online-G"], "--junit", tmp_path / "j.xml")
    assert code == 1 and out.count("FAIL") == 3, out  # the verdict line and both metrics
    assert gate(capsys, "--baseline", base, "--current", runs["LanguageX"])[0] == 0
