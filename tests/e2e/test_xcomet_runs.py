"""XCOMET end to end on a tiny checkpoint: the issue's command writes spans, compare, report and gate treat it like
any metric, a tampered span is refused."""
from __future__ import annotations

import json
import os
import subprocess

import pytest

from mteval.errors import InputError
from tests.helpers import MTEVAL, ROOT


def _run(*args: str, cmd: str = MTEVAL) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    return subprocess.run([cmd, *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)


@pytest.fixture(scope="module")
def xcomet_runs(wmt22, tiny_models, tmp_path_factory):
    root = tmp_path_factory.mktemp("xcomet")
    runs = {}
    for submission in ("LanguageX", "Online-G"):
        run_dir = root / submission
        proc = _run("dataset=wmt22_en_zh", "dataset.load.limit=20", "system=wmt22_submission",
                    f"system.submission={submission}", "metrics=[bleu,xcomet]",
                    f"metrics.xcomet.model={tiny_models['xcomet']}", f"hydra.run.dir={run_dir}",
                    f"leaderboard={root / 'lb.csv'}", "cache=null")
        assert proc.returncode == 0, proc.stderr[-3000:]
        runs[submission] = run_dir
    return runs


@pytest.mark.slow
def test_the_issue_command_writes_spans(xcomet_runs):
    from mteval.results.io import load_run

    run = load_run(xcomet_runs["LanguageX"])  # the schema check passes every stored span
    spans = run.error_spans("xcomet")
    assert len(spans) == 20 and all(isinstance(seg, list) for seg in spans) and any(spans)
    for row, seg in zip(run.segments, spans, strict=True):
        for s in seg:
            assert s["text"] == row["hyp"][s["start"]:s["end"]] and s["severity"] in ("minor", "major", "critical")
            assert 0 <= s["confidence"] <= 1
    entry = run.scores["metrics"]["xcomet"]
    assert entry["error_spans"]["segments_with_errors"] == sum(1 for seg in spans if seg)
    assert entry["metric"]["class"] == "mteval.metrics.xcomet.XComet"
    assert "@sha256:" in entry["signature"] and "|nrefs:1|" in entry["signature"]  # the checkpoint by content
    csv_cell = (xcomet_runs["LanguageX"] / "segments.csv").read_text(encoding="utf-8")
    assert '""severity"": ""' in csv_cell  # JSON in the CSV cell, not Python's repr


@pytest.mark.slow
def test_a_tampered_span_is_refused_when_read_back(xcomet_runs, tmp_path):
    import shutil

    from mteval.results.io import load_run

    run_dir = tmp_path / "run"
    shutil.copytree(xcomet_runs["LanguageX"], run_dir)
    rows = [json.loads(line) for line in (run_dir / "segments.jsonl").read_text(encoding="utf-8").splitlines()]
    rows[4]["xcomet_error_spans"] = [{"text": "x", "start": 0, "end": 10_000, "severity": "major", "confidence": 1}]
    (run_dir / "segments.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    with pytest.raises(InputError, match=r"segments.jsonl:5.*xcomet_error_spans"):
        load_run(run_dir)


@pytest.mark.slow
def test_compare_and_report_treat_xcomet_like_any_metric(xcomet_runs, tmp_path):
    out = tmp_path / "cmp"
    proc = _run(str(xcomet_runs["LanguageX"]), str(xcomet_runs["Online-G"]), "--n-bootstrap", "200",
                "--n-ar", "200", "--out", str(out), cmd=str(MTEVAL) + "-compare")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "xcomet" in proc.stdout
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<table id='error-spans'>" in html and "Error spans by severity" in html
    assert "<mark class='major' title='major, confidence" in html or "<mark class='minor' title=" in html
    from mteval.results.io import load_run

    for name in ("LanguageX", "Online-G"):
        counts = load_run(xcomet_runs[name]).scores["metrics"]["xcomet"]["error_spans"]
        cells = "".join(f"<td class='num'>{counts[s]}</td>" for s in ("minor", "major", "critical"))
        assert f"<tr><td>{name}</td>{cells}" in html
        # report.md (and the printed table) carry the same counts
        row = f"| {name} "
        md_row = next(line for line in (out / "report.md").read_text(encoding="utf-8").splitlines()
                      if line.startswith(row) and line.count("|") == 8)
        assert [c.strip() for c in md_row.split("|")[2:5]] == [str(counts[s]) for s in ("minor", "major", "critical")]


@pytest.mark.slow
def test_gate_treats_xcomet_like_any_metric(xcomet_runs, tmp_path):
    baseline = tmp_path / "base.json"
    proc = _run("--write-baseline", str(xcomet_runs["LanguageX"]), "--out", str(baseline),
                cmd=str(MTEVAL) + "-gate")
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads(baseline.read_text())
    assert "xcomet" in data["metrics"] and data["segments"][0]["scores"]["xcomet"] is not None
    same = _run("--baseline", str(baseline), "--current", str(xcomet_runs["LanguageX"]), cmd=str(MTEVAL) + "-gate")
    assert same.returncode == 0, same.stdout + same.stderr
    assert "xcomet" in same.stdout
    other = _run("--baseline", str(baseline), "--current", str(xcomet_runs["Online-G"]), cmd=str(MTEVAL) + "-gate")
    assert other.returncode in (0, 1), other.stdout + other.stderr  # a decision, never a refusal
    assert "xcomet" in other.stdout
