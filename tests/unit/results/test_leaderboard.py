"""The leaderboard: one row per run, signature hash and reference count in each row, safe under concurrent
runs, old files migrated, never a failure for a finished run (issue 11, items 8, 9 and 12); a column per metric
the runs scored, whatever its name (issue 18, item 3)."""
from __future__ import annotations

import csv
import logging
import multiprocessing as mp
import os
import stat
import subprocess
from pathlib import Path

import pytest

from mteval.results.leaderboard import append_leaderboard, columns
from mteval.metrics.sacre import BLEU, ChrF
from mteval.pipeline import score
from mteval.types import Corpus, MetricResult, RunResult, Segment
from tests.helpers import ROOT

REFS = ["今天天气很好。", "我们提出一种新方法。", "模型规模很重要。"]


def result(system: str = "sys", *, hyps=("今天天气好。", "一种新方法。", "模型很重要。"), nrefs: int = 1,
           bleu: BLEU | None = None, data: str = "sha256:abc", more: tuple[MetricResult, ...] = ()) -> RunResult:
    refs = [[r] * nrefs for r in REFS]
    corpus = Corpus(name="toy", src_lang="en", tgt_lang="zh",
                    segments=[Segment(id=str(i), src=f"s{i}", refs=r) for i, r in enumerate(refs)])
    metrics = {m.name: score(m, corpus, list(hyps)) for m in (bleu or BLEU(), ChrF())}
    metrics.update({m.name: m for m in more})
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
    assert header == columns(["bleu", "chrf"])
    assert (a["nrefs"], b["nrefs"]) == ("1", "2")
    assert len({a["run"], b["run"], c["run"]}) == 3 and all(len(r["run"]) == 12 for r in (a, b, c))
    # Different reference counts or BLEU tokenizers give different signatures: rows say they are not comparable.
    assert len({a["sig"], b["sig"], c["sig"]}) == 3
    assert a["chrf_sig"] == c["chrf_sig"] != b["chrf_sig"] and a["bleu_sig"] != c["bleu_sig"]
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
    assert header == columns(["bleu", "chrf"]) and sorted(r["system"] for r in got) == sorted(f"sys{i}" for i in range(16))


def test_old_header_is_migrated_without_misaligned_rows(tmp_path, caplog):
    board = tmp_path / "lb.csv"
    old = "time,dataset,direction,system,n_segments,bleu,chrf,chrf++,ter,comet,cometkiwi,run_dir,git\n"
    board.write_text(old + "t0,toy,en-zh,old,3,12.5,30.1,,,,,/runs/old,deadbee\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        assert append_leaderboard(board, result("new"), tmp_path / "new", when="t1")
    assert "old leaderboard header" in caplog.text
    header, (old_row, new_row) = rows(board)
    assert header == ["time", "run", "dataset", "direction", "system", "n_segments", "nrefs", "bleu", "bleu_sig",
                      "chrf", "chrf_sig", "chrf++", "ter", "comet", "cometkiwi", "sig", "run_dir", "git"]
    assert (old_row["system"], old_row["bleu"], old_row["chrf"], old_row["run_dir"], old_row["git"], old_row["sig"]) \
        == ("old", "12.5", "30.1", "/runs/old", "deadbee", "")
    assert new_row["system"] == "new" and new_row["sig"] and new_row["comet"] == ""


def test_unknown_columns_are_moved_aside_not_lost(tmp_path):
    board = tmp_path / "lb.csv"
    board.write_text("when,who,what\n1,2,3\n", encoding="utf-8")
    assert append_leaderboard(board, result("new"), tmp_path / "new", when="t1")
    (aside,) = tmp_path.glob("lb.old-*.csv")
    assert aside.read_text(encoding="utf-8") == "when,who,what\n1,2,3\n"
    assert [r["system"] for r in rows(board)[1]] == ["new"]


XCOMET = MetricResult("xcomet", 0.8125, "xcomet|m:tiny|hub:0123456789ab|nrefs:1|v:2.2.4")
JUDGE = MetricResult("llm_judge", 71.5, "llm_judge|m:tiny-chat|prompt:3f2a|v:1")


def test_every_metric_the_run_scored_has_a_score_and_a_signature_column(tmp_path):
    """A metric outside the columns of earlier versions (XCOMET, an LLM judge) gets its score and signature hash."""
    board = tmp_path / "lb.csv"
    assert append_leaderboard(board, result("a", more=(XCOMET, JUDGE)), tmp_path / "a", when="t1")
    header, (row,) = rows(board)
    assert header == columns(["bleu", "chrf", "xcomet", "llm_judge"])
    assert (row["xcomet"], row["llm_judge"]) == ("0.8125", "71.5")
    assert len(row["xcomet_sig"]) == len(row["llm_judge_sig"]) == 12 and row["xcomet_sig"] != row["llm_judge_sig"]
    other = MetricResult("xcomet", 0.8125, XCOMET.signature.replace("hub:0123456789ab", "hub:ba9876543210"))
    append_leaderboard(board, result("b", more=(other,)), tmp_path / "b", when="t2")
    _, (first, second) = rows(board)
    assert second["xcomet_sig"] != first["xcomet_sig"] and second["llm_judge"] == second["llm_judge_sig"] == ""


def test_an_old_file_is_extended_with_new_metrics_and_keeps_every_value(tmp_path):
    """Columns of the old fixed list and a hand-added one stay where they were, with their values; new metric
    columns are added before sig."""
    board = tmp_path / "lb.csv"
    old = ("time,run,dataset,direction,system,n_segments,nrefs,bleu,chrf,chrf++,ter,comet,cometkiwi,metricx,"
           "metricx_qe,sig,run_dir,git,notes\n")
    row = "t0,abc,toy,en-zh,old,3,1,12.5,30.1,,41.2,0.81,,,,0123,/runs/old,deadbee,kept by hand\n"
    board.write_text(old + row, encoding="utf-8")
    assert append_leaderboard(board, result("new", more=(XCOMET, JUDGE)), tmp_path / "new", when="t1")
    header, (old_row, new_row) = rows(board)
    assert header[:7] == old.split(",")[:7] and header[-4:] == ["sig", "run_dir", "git", "notes"]
    assert header.index("xcomet") > header.index("metricx_qe") and header.index("llm_judge_sig") < header.index("sig")
    before = dict(zip(old.strip().split(","), row.strip().split(","), strict=True))
    assert {k: old_row[k] for k in before} == before and not any(old_row[k] for k in set(old_row) - set(before))
    assert (new_row["xcomet"], new_row["notes"], new_row["ter"]) == ("0.8125", "", "")
    # The same file read back: a third run with only BLEU and chrF appends under the extended header.
    append_leaderboard(board, result("third"), tmp_path / "third", when="t2")
    assert rows(board)[0] == header and rows(board)[1][2]["xcomet"] == ""


def test_a_row_longer_than_its_header_is_kept_whole(tmp_path):
    """A file whose rows cannot be matched to its header is moved aside, not rewritten (a value would shift)."""
    board = tmp_path / "lb.csv"
    text = "time,system,run_dir\nt0,a,/runs/a,extra\n"
    board.write_text(text, encoding="utf-8")
    assert append_leaderboard(board, result("new"), tmp_path / "new", when="t1")
    (aside,) = tmp_path.glob("lb.old-*.csv")
    assert aside.read_text(encoding="utf-8") == text and [r["system"] for r in rows(board)[1]] == ["new"]


def test_formula_cells_are_neutralised(tmp_path):
    board = tmp_path / "lb.csv"
    append_leaderboard(board, result('=HYPERLINK("http://x","y")'), tmp_path / "r", when="t")
    assert rows(board)[1][0]["system"] == '\'=HYPERLINK("http://x","y")'


@pytest.mark.timeout(60)  # a FIFO opened for writing blocks until a reader comes: the test must not hang
@pytest.mark.parametrize("where", ["under-a-file", "a-directory", "full-disk", "fifo", "dangling-link"])
def test_unwritable_leaderboard_warns_and_does_not_fail(tmp_path, caplog, where):
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    board = {"under-a-file": blocker / "lb.csv", "a-directory": tmp_path}.get(where, tmp_path / "lb.csv")
    if where == "full-disk":
        if not Path("/dev/full").exists():
            pytest.skip("no /dev/full")
        board.symlink_to("/dev/full")
    elif where == "fifo":
        os.mkfifo(board)
    elif where == "dangling-link":
        board.symlink_to(tmp_path / "elsewhere" / "lb.csv")
    with caplog.at_level(logging.WARNING):
        assert append_leaderboard(board, result(), tmp_path / "run", when="t") is False
    (record,) = caplog.records
    assert "not updated" in record.message and str(tmp_path / "run") in record.message
    assert not list(tmp_path.glob(".*tmp"))
    if where == "fifo":
        assert stat.S_ISFIFO(os.lstat(board).st_mode)  # still a FIFO, not replaced by a file
    if where == "dangling-link":
        assert board.is_symlink() and not (tmp_path / "elsewhere").exists()


def test_a_symlinked_leaderboard_is_written_through(tmp_path):
    """A leaderboard kept elsewhere behind a symlink is updated where it lives; the link stays a link."""
    real = tmp_path / "shared" / "lb.csv"
    real.parent.mkdir()
    real.touch()  # a link to nothing is refused (test_unwritable_leaderboard_warns_and_does_not_fail)
    link = tmp_path / "lb.csv"
    link.symlink_to(real)
    for system in ("a", "b"):  # the first row writes the header through the link, the second appends
        assert append_leaderboard(link, result(system), tmp_path / system, when="t")
    append_leaderboard(link, result("a"), tmp_path / "a2", when="t")  # a rerun: the file is rewritten
    assert link.is_symlink() and [r["system"] for r in rows(real)[1]] == ["b", "a"]


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="not a git checkout")
def test_leaderboard_is_not_tracked_by_git():
    tracked = subprocess.run(["git", "ls-files", "results/leaderboard.csv"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout
    ignored = subprocess.run(["git", "check-ignore", "-q", "results/leaderboard.csv"], cwd=ROOT)
    assert tracked == "" and ignored.returncode == 0
