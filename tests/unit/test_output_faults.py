"""Faults after the start: a corrupt or full cache and unwritable run files are one line and exit 2, keep
every finished translation and leave no temp file; an unwritable leaderboard only warns (issue 11, item 9)."""
from __future__ import annotations

import errno
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from mteval.cache import Cache
from mteval.errors import CacheError, OutputError
from mteval.pipeline import translate
from mteval.systems.cached import CachedSystem
from mteval.types import Translation
from mteval.results.io import write_run
from mteval.systems.base import System
from mteval.types import Corpus, RunResult, Segment

SOURCES = [f"Source sentence number {i}, long enough to fill the pages of the cache file: " + "x" * 80
           for i in range(400)]

def cached_translate(system, corp, *, cache, chunk_size=64):
    """The pipeline's translation of ``corp`` with ``system`` behind the cache."""
    return translate(CachedSystem(system, cache, chunk_size=chunk_size), corp).hyps



class EchoSystem(System):
    """A model-backed system double (so translations go through the cache)."""

    uses_model = True

    def __init__(self):
        self.name = "echo"
        self.calls = 0

    def translate(self, sources, *, src_lang, tgt_lang):
        self.calls += 1
        return Translation([f"译{s}" for s in sources])


def corpus(sources=SOURCES) -> Corpus:
    return Corpus(name="toy", src_lang="en", tgt_lang="zh",
                  segments=[Segment(id=str(i), src=s, refs=[f"ref {i}"]) for i, s in enumerate(sources)])


def one_line(err: BaseException) -> str:
    text = str(err)
    assert "\n" not in text and "Traceback" not in text
    return text


def test_corrupt_cache_page_after_open_is_one_cache_error(tmp_path):
    path = tmp_path / "cache.sqlite"
    with Cache(path) as cache:
        cached_translate(EchoSystem(), corpus(), cache=cache, chunk_size=100)
    data = bytearray(path.read_bytes())
    page = 4096
    assert len(data) > 20 * page
    for start in range(3 * page, len(data), page):  # keep the schema page: the file still opens
        data[start:start + page] = b"\xa5" * page
    path.write_bytes(bytes(data))
    with Cache(path) as cache, pytest.raises(CacheError) as err:
        cached_translate(EchoSystem(), corpus(), cache=cache)
    message = one_line(err.value)
    assert str(path) in message and "malformed" in message and "cache=null" in message


def test_full_cache_keeps_the_finished_chunks(tmp_path):
    """SQLite's max_page_count stands in for a full disk: the chunk that does not fit is refused with one
    line, every chunk before it stays in the cache, and the rerun translates only what is missing."""
    path = tmp_path / "cache.sqlite"
    system = EchoSystem()
    with Cache(path) as cache:
        cached_translate(system, corpus(SOURCES[:100]), cache=cache, chunk_size=50)
        pages = cache._db.execute("PRAGMA page_count").fetchone()[0]
        cache._db.execute(f"PRAGMA max_page_count={pages}")
        with pytest.raises(CacheError) as err:
            cached_translate(system, corpus(), cache=cache, chunk_size=50)
        assert "full" in one_line(err.value) and "entries stored before are kept" in str(err.value)
    with Cache(path) as cache:
        assert cache.count()["translation"] == 100
        again = EchoSystem()
        hyps = cached_translate(again, corpus(), cache=cache, chunk_size=50)
    assert again.calls == 6 and hyps[0] == "译" + SOURCES[0]  # 300 missing sources in chunks of 50
    assert not list(tmp_path.glob("*.tmp"))


def result() -> RunResult:
    c = corpus(SOURCES[:5])
    return RunResult(dataset="toy", system="echo", corpus=c, hypotheses=[f"译{s}" for s in SOURCES[:5]], metrics={})


def test_full_disk_under_the_run_dir_keeps_what_was_written(tmp_path, monkeypatch):
    real_replace = os.replace

    def replace(src, dst):
        if Path(dst).name == "segments.csv":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OutputError) as err:
        write_run(tmp_path / "run", result())
    message = one_line(err.value)
    assert "cannot write segments.csv: No space left on device" in message
    assert "kept: hypotheses.txt, segments.jsonl" in message
    names = sorted(p.name for p in (tmp_path / "run").iterdir())
    assert names == ["hypotheses.txt", "segments.jsonl"]  # no scores.json: the run is not marked finished
    assert (tmp_path / "run" / "hypotheses.txt").read_text(encoding="utf-8").count("\n") == 5


def test_run_file_blocked_by_a_directory_leaves_no_temp_file(tmp_path):
    (tmp_path / "run" / "scores.json" / "x").mkdir(parents=True)
    with pytest.raises(OutputError, match="cannot write scores.json"):
        write_run(tmp_path / "run", result())
    assert not [p for p in (tmp_path / "run").iterdir() if p.name.endswith(".tmp")]


def _mteval(tmp_path: Path, *overrides: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    # The default abstracts have no references offline: BLEU is skipped, and a run without any score is
    # accepted here (allow_no_scores) because these tests are about the files, not the scores.
    return subprocess.run([sys.executable, "-m", "mteval.commands.main", "system=copy", "metrics=[bleu]", "cache=null",
                           "allow_no_scores=true", *overrides], capture_output=True, text=True, timeout=300, env=env)


def test_cli_unwritable_leaderboard_only_warns(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    proc = _mteval(tmp_path, f"hydra.run.dir={tmp_path / 'run'}", f"leaderboard={blocker / 'lb.csv'}")
    assert proc.returncode == 0, proc.stderr[-2000:]
    log = proc.stdout + proc.stderr  # Hydra logs to stdout
    assert f"leaderboard {blocker / 'lb.csv'} not updated" in log and "Traceback" not in log
    assert (tmp_path / "run" / "scores.json").is_file()


def test_cli_run_dir_fault_is_exit_2_with_one_line(tmp_path):
    (tmp_path / "run" / "scores.json" / "x").mkdir(parents=True)
    proc = _mteval(tmp_path, f"hydra.run.dir={tmp_path / 'run'}", f"leaderboard={tmp_path / 'lb.csv'}")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    (line,) = [x for x in proc.stderr.splitlines() if x.startswith("mteval: error:")]
    assert "cannot write scores.json" in line and "kept: hypotheses.txt" in line
    assert not (tmp_path / "lb.csv").exists()  # a failed run adds no leaderboard row


def test_sqlite_full_error_is_what_the_cache_sees():
    """The stand-in above is SQLite's own "full" error (SQLITE_FULL), the one a full disk raises."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (x TEXT)")
    db.execute(f"PRAGMA max_page_count={db.execute('PRAGMA page_count').fetchone()[0]}")
    with pytest.raises(sqlite3.OperationalError, match="full"):
        db.executemany("INSERT INTO t VALUES (?)", [("x" * 1000,)] * 100)
