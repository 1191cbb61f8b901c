"""The leaderboard: one row per run, signature hash and reference count in each row, safe under concurrent
runs, old files migrated, never a failure for a finished run (issue 11, items 8, 9 and 12)."""
from __future__ import annotations

import csv
import logging
import multiprocessing as mp
import subprocess
from pathlib import Path

import pytest

from mteval.results.leaderboard import COLUMNS, append_leaderboard
from mteval.metrics.sacre import BLEU, ChrF
from mteval.pipeline import score
from mteval.types import Corpus, RunResult, Segment

ROOT = Path(__file__).resolve().parents[1]
REFS = ["今天天气很好。", "我们提出一种新方法。", "模型规模很重要。"]


def result(system: str = "sys", *, hyps=("今天天气好。", "一种新方法。", "模型很重要。"), nrefs: int = 1,
           bleu: BLEU | None = None, data: str = "sha256:abc") -> RunResult:
    refs = [[r] * nrefs for r in REFS]
    corpus = Corpus(name="toy", src_lang="en", tgt_lang="zh",
                    segments=[Segment(id=str(i), src=f"s{i}", refs=r) for i, r in enumerate(refs)])
    metrics = {m.name: score(m, corpus, list(hyps)) for m in (bleu or BLEU(), ChrF())}
    return RunResult(dataset="toy", system=system, corpus=corpus, hypotheses=list(hyps), metrics=metrics,
                     provenance={"system": {"name": system}, "data": {"files": data}, "git": "abc123"})


def rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        return header, [dict(zip(header, r)) for r in reader]


def test_rows_carry_run_key_signature_hash_and_reference_count(tmp_path):
    board = tmp_path / "lb.csv"
    assert append_leaderboard(board, result("a"), tmp_path / "run-a", when="t1")
    assert append_leaderboard(board, result("b", nrefs=2), tmp_path / "run-b", when="t2")
    assert append_leaderboard(board, result("c", bleu=BLEU(tokenize="13a")), tmp_path / "run-c", when="t3")
    header, (a, b, c) = rows(board)
    assert header == list(COLUMNS)
    assert (a["nrefs"], b["nrefs"]) == ("1", "2")
    assert len({a["run"], b["run"], c["run"]}) == 3 and all(len(r["run"]) == 12 for r in (a, b, c))
    # Different reference counts or BLEU tokenizers give different signatures: rows say they are not comparable.
    assert len({a["sig"], b["sig"], c["sig"]}) == 3
    assert result("a").metrics["bleu"].score == pytest.approx(float(a["bleu"]), abs=1e-4)


def test_rerun_replaces_its_row(tmp_path):
    board = tmp_path / "lb.csv"
    append_leaderboard(board, result("a"), tmp_path / "run1", when="t1")
    append_leaderboard(board, result("b"), tmp_path / "run2", when="t1")
    append_leaderboard(board, result("a"), tmp_path / "run3", when="t2")  # the same evaluation again
    _, got = rows(board)
    assert [(r["system"], r["run_dir"], r["time"]) for r in got] == [("b", str(tmp_path / "run2"), "t1"),
                                                                     ("a", str(tmp_path / "run3"), "t2")]
    # A different evaluation written into an existing run dir replaces that dir's row too.
    append_leaderboard(board, result("c"), tmp_path / "run2", when="t3")
    assert sorted(r["system"] for r in rows(board)[1]) == ["a", "c"]
    assert not list(tmp_path.glob(".*tmp"))


def _append(args: tuple[str, int]) -> bool:
    board, i = args
    return append_leaderboard(board, result(f"sys{i}"), f"/runs/{i}", when="t")


def test_concurrent_runs_write_one_header_and_every_row(tmp_path):
    board = str(tmp_path / "lb.csv")
    with mp.get_context("fork").Pool(8) as pool:
        assert all(pool.map(_append, [(board, i) for i in range(16)]))
    text = Path(board).read_text(encoding="utf-8")
    assert text.count("time,run,") == 1
    header, got = rows(Path(board))
    assert header == list(COLUMNS) and sorted(r["system"] for r in got) == sorted(f"sys{i}" for i in range(16))


def test_old_header_is_migrated_without_misaligned_rows(tmp_path, caplog):
    board = tmp_path / "lb.csv"
    old = "time,dataset,direction,system,n_segments,bleu,chrf,chrf++,ter,comet,cometkiwi,run_dir,git\n"
    board.write_text(old + "t0,toy,en-zh,old,3,12.5,30.1,,,,,/runs/old,deadbee\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        assert append_leaderboard(board, result("new"), tmp_path / "new", when="t1")
    assert "old leaderboard header" in caplog.text
    header, (old_row, new_row) = rows(board)
    assert header == list(COLUMNS)
    assert (old_row["system"], old_row["bleu"], old_row["run_dir"], old_row["sig"]) == ("old", "12.5", "/runs/old", "")
    assert new_row["system"] == "new" and new_row["sig"]


def test_unknown_columns_are_moved_aside_not_lost(tmp_path):
    board = tmp_path / "lb.csv"
    board.write_text("when,who,what\n1,2,3\n", encoding="utf-8")
    assert append_leaderboard(board, result("new"), tmp_path / "new", when="t1")
    (aside,) = tmp_path.glob("lb.old-*.csv")
    assert aside.read_text(encoding="utf-8") == "when,who,what\n1,2,3\n"
    assert [r["system"] for r in rows(board)[1]] == ["new"]


def test_formula_cells_are_neutralised(tmp_path):
    board = tmp_path / "lb.csv"
    append_leaderboard(board, result('=HYPERLINK("http://x","y")'), tmp_path / "r", when="t")
    assert rows(board)[1][0]["system"] == '\'=HYPERLINK("http://x","y")'


@pytest.mark.parametrize("where", ["under-a-file", "a-directory", "full-disk"])
def test_unwritable_leaderboard_warns_and_does_not_fail(tmp_path, caplog, where):
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    board = {"under-a-file": blocker / "lb.csv", "a-directory": tmp_path, "full-disk": tmp_path / "lb.csv"}[where]
    if where == "full-disk":
        if not Path("/dev/full").exists():
            pytest.skip("no /dev/full")
        board.symlink_to("/dev/full")
    with caplog.at_level(logging.WARNING):
        assert append_leaderboard(board, result(), tmp_path / "run", when="t") is False
    (record,) = caplog.records
    assert "not updated" in record.message and str(tmp_path / "run") in record.message
    assert not list(tmp_path.glob(".*tmp"))


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="not a git checkout")
def test_leaderboard_is_not_tracked_by_git():
    tracked = subprocess.run(["git", "ls-files", "results/leaderboard.csv"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout
    ignored = subprocess.run(["git", "check-ignore", "-q", "results/leaderboard.csv"], cwd=ROOT)
    assert tracked == "" and ignored.returncode == 0
