"""mteval-history: series joined only on one signature, breaks that say why, gate decisions marked, bad files refused."""
from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from mteval.commands.gate import run as gate
from mteval.commands.history import main as history_main
from mteval.commands.history import run as history
from mteval.errors import ConfigError, InputError
from mteval.metrics.sacre import BLEU
from mteval.results.gate_log import COLUMNS, read_decisions, signature_hash
from mteval.results.history import build_series, read_leaderboard
from mteval.results.leaderboard import columns
from mteval.testing.runs import text_run

REFS = ["今天天气很好。", "我们提出一种新方法。", "模型规模很重要。", "请检查你的订单。", "这家商店周日关门。",
        "他昨天去了北京。", "数据集包含两千个句子。", "翻译质量提高了。", "会议推迟到下周。", "价格包括运费。"]
BAD = ["天气", "方法", "模型", "订单", "商店", "北京", "句子", "质量", "会议", "运费"]


def _row(run_dir: Path, when: str, *, system: str = "sys", n_segments: int = 10) -> dict:
    """The leaderboard row of a run dir, as mteval writes it (score and signature hash from its scores.json)."""
    m = json.loads((run_dir / "scores.json").read_text(encoding="utf-8"))["metrics"]["bleu"]
    return {"time": when, "run": run_dir.name, "dataset": "toy", "direction": "en-zh", "system": system,
            "n_segments": n_segments, "nrefs": "1", "bleu": round(m["score"], 4), "bleu_sig": signature_hash(m["signature"]),
            "sig": "x", "run_dir": str(run_dir), "git": ""}


def _board(path: Path, rows: list[dict]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns(["bleu"]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_a_signature_change_breaks_the_line_and_names_the_changed_fields(tmp_path):
    a = text_run(tmp_path / "a", BAD[:5] + REFS[5:], REFS, metrics=[BLEU(tokenize="zh")])
    b = text_run(tmp_path / "b", REFS[:8] + BAD[8:], REFS, metrics=[BLEU(tokenize="zh")])
    c = text_run(tmp_path / "c", REFS, REFS, metrics=[BLEU(tokenize="13a")])
    board = _board(tmp_path / "leaderboard.csv", [_row(c, "2026-01-03T10:00:00"), _row(a, "2026-01-01T10:00:00"),
                                                  _row(b, "2026-01-02T10:00:00")])
    (series,) = build_series(*read_leaderboard(board))
    assert [[p.run_dir for p in seg.points] for seg in series.segments] == [[str(a), str(b)], [str(c)]]
    assert series.segments[0].reason is None
    assert series.segments[1].reason == "bleu signature: tok zh -> 13a"
    # Without the run directory the full signature is gone: the hashes are named instead.
    (c / "scores.json").unlink()
    (series,) = build_series(*read_leaderboard(board))
    old, new = series.segments[0].points[-1].sig, series.segments[1].points[0].sig
    assert series.segments[1].reason == f"bleu signature hash {old} -> {new} (full signature unreadable: {c}/scores.json)"


def test_a_changed_segment_count_breaks_the_line_too(tmp_path):
    a = text_run(tmp_path / "a", REFS, REFS, metrics=[BLEU()])
    board = _board(tmp_path / "lb.csv", [_row(a, "2026-01-01T10:00:00"),
                                         _row(a, "2026-01-02T10:00:00", n_segments=5)])
    (series,) = build_series(*read_leaderboard(board))
    assert [seg.reason for seg in series.segments] == [None, "10 -> 5 segments"]


def test_gate_decisions_are_recorded_and_marked_on_the_run_they_judged(tmp_path, capsys):
    good = text_run(tmp_path / "good", REFS, REFS, metrics=[BLEU()])
    bad = text_run(tmp_path / "bad", BAD, REFS, metrics=[BLEU()])
    assert gate(["--write-baseline", str(good), "--out", str(tmp_path / "base.json")]) == 0
    cfg = tmp_path / "gate.yaml"
    cfg.write_text("alpha: 0.05\nn_resamples: 200\nmin_effect: {bleu: 0.5}\n", encoding="utf-8")
    log = tmp_path / "results" / "gate-history.csv"
    base = ["--baseline", str(tmp_path / "base.json"), "--config", str(cfg), "--history", str(log)]
    assert gate([*base, "--current", str(bad)]) == 1
    assert gate([*base, "--current", str(good)]) == 0
    assert gate([*base, "--current", str(tmp_path / "missing")]) == 2
    rows = read_decisions(log)
    assert [(d.status, d.metric, d.failed) for d in rows] == [("regression", "bleu", True), ("pass", "bleu", False),
                                                               ("refused", "", False)]
    assert log.read_text(encoding="utf-8").splitlines()[0] == ",".join(COLUMNS)
    board = _board(tmp_path / "results" / "leaderboard.csv",
                   [_row(good, "2026-01-01T10:00:00"), _row(bad, "2026-01-02T10:00:00")])
    page = tmp_path / "history.html"
    capsys.readouterr()
    assert history(["--leaderboard", str(board), "--html", str(page)]) == 0  # gate-history.csv beside it
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "toy (en-zh) | sys | bleu"
    bad_line = next(line for line in lines if str(bad) in line)
    good_line = next(line for line in lines if str(good) in line)
    assert "[gate regression effect -" in bad_line and "(this metric failed)" in bad_line
    assert "[gate pass effect +0, p 1.0000]" in good_line
    html = page.read_text(encoding="utf-8")
    assert html.count("<polyline class='trend'") == 1 and html.count("<circle class='run'") == 2
    assert re.search(r"<rect class='gate regression'[^>]*fill='#cf222e'><title>gate regression effect -", html)
    assert "<rect class='gate pass'" in html and "http" not in html.replace("http://www.w3.org/2000/svg", "")


def test_an_empty_history_says_so(tmp_path, capsys):
    board = _board(tmp_path / "lb.csv", [])
    assert history(["--leaderboard", str(board)]) == 0
    assert capsys.readouterr().out == f"no history: {board} has no scored runs\n"
    a = text_run(tmp_path / "a", REFS, REFS, metrics=[BLEU()])
    _board(board, [_row(a, "2026-01-01T10:00:00")])
    assert history(["--leaderboard", str(board), "--system", "other", "--html", str(tmp_path / "h.html")]) == 0
    assert "has no scored runs for system other" in capsys.readouterr().out
    assert "<p id='empty'>No runs to show.</p>" in (tmp_path / "h.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("edit, message", [
    (lambda r: r.update(bleu="n/a"), "'bleu' must be a number or empty, got 'n/a'"),
    (lambda r: r.update(time="yesterday"), "'time' must be a date and time"),
    (lambda r: r.update(n_segments="ten"), "'n_segments' must be a whole number"),
    (lambda r: r.update(bleu_sig=""), "'bleu' has a score but no signature hash"),
])
def test_a_malformed_row_is_refused_with_file_and_line(tmp_path, capsys, edit, message):
    a = text_run(tmp_path / "a", REFS, REFS, metrics=[BLEU()])
    good, broken = _row(a, "2026-01-01T10:00:00"), _row(a, "2026-01-02T10:00:00")
    edit(broken)
    board = _board(tmp_path / "lb.csv", [good, broken])
    with pytest.raises(InputError, match=re.escape(f"{board}:3: {message}")):
        read_leaderboard(board)
    with pytest.raises(SystemExit) as exit_info:
        history_main(["--leaderboard", str(board)])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and err.startswith(f"mteval-history: error: {board}:3: ") and err.count("\n") == 1


def test_unreadable_inputs_exit_2_with_one_line(tmp_path, capsys):
    cases = [["--leaderboard", str(tmp_path / "none.csv")],
             ["--leaderboard", str(_board(tmp_path / "lb.csv", [])), "--metric", "comet"],
             ["--leaderboard", str(tmp_path / "lb.csv"), "--gate-history", str(tmp_path / "nope.csv")]]
    (tmp_path / "short.csv").write_text("time,system\n", encoding="utf-8")
    cases.append(["--leaderboard", str(tmp_path / "short.csv")])
    for argv in cases:
        with pytest.raises(SystemExit) as exit_info:
            history_main(argv)
        err = capsys.readouterr().err
        assert exit_info.value.code == 2 and err.count("\n") == 1 and "Traceback" not in err, argv
    assert "not a leaderboard: no dataset, direction, n_segments, run_dir column" in err


def test_a_gate_history_that_cannot_be_written_never_changes_the_verdict(tmp_path, capsys):
    good = text_run(tmp_path / "good", REFS, REFS, metrics=[BLEU()])
    assert gate(["--write-baseline", str(good), "--out", str(tmp_path / "base.json")]) == 0
    args = ["--baseline", str(tmp_path / "base.json"), "--current", str(good)]
    (tmp_path / "dir").mkdir()  # refused before any work, as --junit and --summary-md are
    with pytest.raises(ConfigError, match="--history .*is a directory"):
        gate([*args, "--history", str(tmp_path / "dir")])
    other = tmp_path / "notes.csv"
    other.write_text("a,b\n1,2\n", encoding="utf-8")  # not a gate history: left alone, the pass stands
    assert gate([*args, "--history", str(other)]) == 0
    err = capsys.readouterr().err
    assert f"warning: --history {other} not updated: {other}:1: not a gate history" in err
    assert other.read_text(encoding="utf-8") == "a,b\n1,2\n"
