"""The SQLite cache: no model work on a rerun, no re-translation for a new metric, safe with two writers and kills."""
from __future__ import annotations

import multiprocessing as mp
import signal
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from mteval.cache import Cache, digest
from mteval.errors import ConfigError
from mteval.metrics.base import Metric
from mteval.metrics.sacre import BLEU, ChrF
from mteval.pipeline import evaluate, translate
from mteval.systems.cached import CachedSystem
from mteval.metrics.cached import CachedMetric
from mteval.types import Translation
from mteval.systems.base import System
from mteval.types import Corpus, MetricResult, Segment

SOURCES = [f"Sentence number {i}." for i in range(23)] + ["Sentence number 3."]  # one duplicate

def cached_translate(system, corp, *, cache, chunk_size=64):
    """The pipeline's translation of ``corp`` with ``system`` behind the cache."""
    return translate(CachedSystem(system, cache, chunk_size=chunk_size), corp).hyps



class CountingSystem(System):
    """A model-backed system double: records every source it is asked to translate."""

    uses_model = True

    def __init__(self, *, prefix: str = "译", name: str = "counting"):
        self.name = name
        self.prefix = prefix
        self.calls: list[list[str]] = []
        self.on_call = None

    def translate(self, sources, *, src_lang, tgt_lang):
        self.calls.append(list(sources))
        if self.on_call is not None:
            self.on_call(len(self.calls))
        return Translation([f"{self.prefix}{s}" for s in sources])

    def fingerprint(self):
        return {**super().fingerprint(), "prefix": self.prefix}

    @property
    def translated(self) -> int:
        return sum(len(c) for c in self.calls)


class CountingMetric(Metric):
    """A metric double that counts how often it really scores."""

    name = "counting"

    def __init__(self):
        self.n_scored = 0

    def _score(self, hyps, refs, srcs, *, tgt_lang):
        self.n_scored += 1
        segs = [float(len(h)) for h in hyps]
        return MetricResult(self.name, sum(segs) / len(segs), "counting-v1", segment_scores=segs)


def corpus(sources=SOURCES) -> Corpus:
    return Corpus(name="toy", src_lang="en", tgt_lang="zh",
                  segments=[Segment(id=str(i), src=s, refs=[f"参考{s}"]) for i, s in enumerate(sources)])


def test_rerun_does_no_model_work_and_a_new_metric_does_not_retranslate(tmp_path):
    path = tmp_path / "c.sqlite"
    first_sys, first_metric = CountingSystem(), CountingMetric()
    with Cache(path) as cache:
        first = evaluate(corpus(), first_sys, [BLEU(), first_metric], cache=cache, translate_chunk_size=5)
    assert first_sys.translated == len(set(SOURCES))  # the duplicate is translated once
    assert first_metric.n_scored == 1
    again_sys, again_metric = CountingSystem(), CountingMetric()
    with Cache(path) as cache:
        again = evaluate(corpus(), again_sys, [BLEU(), again_metric], cache=cache)
        assert cache.count() == {"translation": len(set(SOURCES)), "metric": 2}
    assert again_sys.calls == [] and again_metric.n_scored == 0
    assert again.hypotheses == first.hypotheses and again.metrics["bleu"].score == first.metrics["bleu"].score
    chrf_sys = CountingSystem()
    with Cache(path) as cache:
        chrf = evaluate(corpus(), chrf_sys, [ChrF()], cache=cache)
    assert chrf_sys.calls == [] and chrf.hypotheses == first.hypotheses
    changed = CountingSystem(prefix="翻")  # a different fingerprint: its own translations
    with Cache(path) as cache:
        evaluate(corpus(), changed, [BLEU()], cache=cache)
    assert changed.translated == len(set(SOURCES))


def test_translate_caches_chunk_by_chunk_and_fills_in_what_is_missing(tmp_path):
    with Cache(tmp_path / "c.sqlite") as cache:
        part = CountingSystem()
        cached_translate(part, corpus(SOURCES[:7]), cache=cache, chunk_size=3)
        assert [len(c) for c in part.calls] == [3, 3, 1]
        rest = CountingSystem()
        hyps = cached_translate(rest, corpus(), cache=cache, chunk_size=3)
    assert sorted(s for c in rest.calls for s in c) == sorted(set(SOURCES) - set(SOURCES[:7]))
    assert hyps == [f"译{s}" for s in SOURCES]


def test_sources_another_run_finished_meanwhile_are_skipped(tmp_path):
    path = tmp_path / "c.sqlite"
    system = CountingSystem()
    key = digest({"system": system.fingerprint(), "src_lang": "en", "tgt_lang": "zh"})
    later = SOURCES[10:20]

    def other_run_finishes_a_chunk(n_calls):
        if n_calls == 1:  # while we translate chunk 1, another run stores chunk 3 with its own output
            with Cache(path) as other:
                other.put_translations(key, [(s, f"other:{s}") for s in later])

    system.on_call = other_run_finishes_a_chunk
    with Cache(path) as cache:
        hyps = cached_translate(system, corpus(), cache=cache, chunk_size=10)
    assert all(s not in later for c in system.calls for s in c)
    assert hyps[10:20] == [f"other:{s}" for s in later]


def test_first_writer_wins(tmp_path):
    with Cache(tmp_path / "c.sqlite") as a, Cache(tmp_path / "c.sqlite") as b:
        assert a.put_translations("k", [("x", "first")]) == {"x": "first"}
        assert b.put_translations("k", [("x", "second"), ("y", "y1")]) == {"x": "first", "y": "y1"}
        assert a.get_translations("k", ["x", "y", "z"]) == {"x": "first", "y": "y1"}


def _writer(path: str, name: str, barrier, queue) -> None:
    """One of several processes hammering the same fresh cache file with overlapping chunks."""
    try:
        barrier.wait()
        agreed = {}
        with Cache(path, timeout=30) as cache:
            for chunk in range(20):
                pairs = [(f"src {chunk}-{j}", f"{name} {chunk}-{j}") for j in range(25)]
                agreed.update(cache.put_translations("sys", pairs))
                cache.put_metric(f"m{chunk}", {"by": name})
                assert len(cache.get_translations("sys", [s for s, _ in pairs])) == 25
        queue.put((name, agreed))
    except BaseException as err:  # noqa: BLE001 - reported to the parent
        queue.put((name, repr(err)))


@pytest.mark.parametrize("trial", range(4))
def test_concurrent_writers_from_several_processes(tmp_path, trial):
    # A fresh file each time: the processes also race to create it and switch it to WAL, where
    # SQLite says "database is locked" without waiting (seen in about 1 of 8 such races).
    path = str(tmp_path / "shared" / "c.sqlite")
    ctx = mp.get_context("fork")
    barrier, queue = ctx.Barrier(6), ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(path, f"w{i}", barrier, queue)) for i in range(6)]
    for p in procs:
        p.start()
    results = dict(queue.get(timeout=120) for _ in procs)
    for p in procs:
        p.join(timeout=60)
    assert all(isinstance(r, dict) for r in results.values()), results
    with Cache(path) as cache:
        assert cache.count() == {"translation": 500, "metric": 20}
        final = cache.get_translations("sys", [f"src {c}-{j}" for c in range(20) for j in range(25)])
    for agreed in results.values():  # every writer was told the value that is really stored
        assert agreed == final
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


KILL_IN_TRANSACTION = textwrap.dedent("""
    import os, signal, sys
    from mteval.cache import Cache, digest
    cache = Cache(sys.argv[1])
    cache.put_translations("sys", [("committed", "kept")])
    cache._db.execute("BEGIN IMMEDIATE")
    cache._db.execute("INSERT INTO translation VALUES (?,?,?,?)", ("sys", digest("half"), "lost", 0.0))
    os.kill(os.getpid(), signal.SIGKILL)
""")


def test_sigkill_inside_a_write_leaves_only_committed_rows(tmp_path):
    path = tmp_path / "c.sqlite"
    proc = subprocess.run([sys.executable, "-c", KILL_IN_TRANSACTION, str(path)], capture_output=True, timeout=60)
    assert proc.returncode == -signal.SIGKILL
    with Cache(path, timeout=5) as cache:  # the dead writer's lock is gone
        assert cache.get_translations("sys", ["committed", "half"]) == {"committed": "kept"}
        assert cache.put_translations("sys", [("half", "new")]) == {"half": "new"}


def test_unusable_cache_file_is_one_clear_error(tmp_path):
    bad = tmp_path / "c.sqlite"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(ConfigError, match="delete the file or run with cache=null"):
        Cache(bad)


def test_chunk_size_must_be_positive(tmp_path):
    with Cache(tmp_path / "c.sqlite") as cache, pytest.raises(ConfigError, match="translate_chunk_size"):
        cached_translate(CountingSystem(), corpus(), cache=cache, chunk_size=0)


def test_systems_without_a_model_bypass_the_cache(tmp_path):
    from mteval.systems.copy import CopySystem

    with Cache(tmp_path / "c.sqlite") as cache:
        assert evaluate(corpus(), CopySystem(), [BLEU()], cache=cache).hypotheses == SOURCES
        assert cache.count()["translation"] == 0




def test_cached_metric_results_carry_the_settings_that_rebuild_the_metric(tmp_path):
    """A result cached before scores.json recorded metric settings still gets them (the gate needs them)."""
    import json

    from mteval.pipeline import score

    hyps = [f"译{s}" for s in SOURCES]
    with Cache(tmp_path / "c.sqlite") as cache:
        first = score(CachedMetric(BLEU(), cache), corpus(), hyps)
        (key, text), = cache._db.execute("SELECT key, result FROM metric").fetchall()
        old = json.loads(text)
        old["extra"].pop("metric", None)
        cache.put_metric(key, old)
        again = score(CachedMetric(BLEU(), cache), corpus(), hyps)
    assert again.score == first.score
    assert again.extra["metric"] == {"class": "mteval.metrics.sacre.BLEU",
                                     "settings": {"zh_punct": "halfwidth", "max_chars": 100_000, "tokenize": "auto",
                                                  "lowercase": False}}
