"""COMET source and reference embeddings in the run cache: read back bitwise, keyed by model content, precision
and layer settings, never trusted when unreadable, bounded by the cap, and reported per run."""
from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from types import SimpleNamespace

import pytest

from mteval.cache import Cache
from mteval.metrics import comet_embed, precision
from mteval.metrics.comet import Comet
from mteval.metrics.comet_cache import LAYER_SETTINGS, embedding_space
from mteval.metrics.comet_models import release_all
from mteval.pipeline import evaluate
from mteval.systems.base import System
from mteval.types import Corpus, Segment, Translation

pytestmark = pytest.mark.filterwarnings("ignore:.*LeafSpec")

SRCS = [f"Sentence {i} says {'much more about models ' * (i % 6)}and data." for i in range(14)]
REFS = [f"第{i}句{'关于模型的更多内容' * (i % 4)}和数据。" for i in range(14)]
HYPS_A = [f"第{i}句{'模型' * (i % 5)}。" for i in range(14)]
HYPS_B = [f"这是第{i}句，{'数据' * (i % 3)}。" for i in range(14)]
KEPT = set(SRCS) | set(REFS)
ROW_BYTES = 32 * 4  # the tiny encoder's hidden size, float32


@pytest.fixture(autouse=True)
def _no_process_memory():
    """Each test starts, and each scoring below runs, as a new process would: no model or embedding kept."""
    release_all()
    yield
    release_all()


@pytest.fixture
def embedded(monkeypatch) -> list[str]:
    """Every text the COMET embedding path really embeds."""
    texts: list[str] = []
    real = comet_embed.embed
    monkeypatch.setattr(comet_embed, "embed", lambda model, batch, **kw: texts.extend(batch) or real(model, batch, **kw))
    return texts


def score(model, hyps, cache=None, **settings) -> list[float]:
    """One run's COMET segment scores, in a fresh process's state; with ``cache``: behind the run cache's file."""
    release_all()
    metric = Comet(model=str(model), device="cpu", batch_size=4, cpu_threads=1, **settings)
    if cache is not None:
        metric.use_cache(cache)
    return metric.score(hyps, [[r] for r in REFS], SRCS).segment_scores


def test_embeddings_stored_by_another_process_score_bitwise_as_recomputing(tiny_models, tmp_path, embedded):
    path = tmp_path / "c.sqlite"
    script = textwrap.dedent(f"""
        import json, sys
        from mteval.cache import Cache
        from mteval.metrics.comet import Comet
        with Cache({str(path)!r}) as cache:
            metric = Comet(model={str(tiny_models['comet'])!r}, device="cpu", batch_size=4, cpu_threads=1)
            metric.use_cache(cache)
            out = metric.score({HYPS_A!r}, [[r] for r in {REFS!r}], {SRCS!r}).segment_scores
            print(json.dumps({{"scores": out, "report": cache.take_embedding_report()}}))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert done.returncode == 0, done.stderr[-2000:]
    other = json.loads(done.stdout.strip().splitlines()[-1])
    assert other["report"]["entries"] == len(KEPT) and other["report"]["misses"] == len(KEPT)
    with Cache(path) as cache:
        cached = score(tiny_models["comet"], HYPS_A, cache)
        assert cache.take_embedding_report()["hits"] == len(KEPT)
    assert not KEPT & set(embedded), "a source or reference was embedded again"
    assert cached == other["scores"]  # bitwise: the same floats
    assert cached == score(tiny_models["comet"], HYPS_A)  # and as recomputing everything here


def test_a_second_run_with_new_hypotheses_embeds_only_the_hypotheses(tiny_models, tmp_path, embedded):
    with Cache(tmp_path / "c.sqlite") as cache:
        score(tiny_models["comet"], HYPS_A, cache)
    assert sorted(embedded) == sorted(KEPT | (set(HYPS_A) - KEPT))
    embedded.clear()
    with Cache(tmp_path / "c.sqlite") as cache:  # another run: a new connection, nothing in memory
        second = score(tiny_models["comet"], HYPS_B, cache)
    assert sorted(embedded) == sorted(set(HYPS_B))
    assert second == score(tiny_models["comet"], HYPS_B)


@pytest.mark.parametrize("change", ["model content", "precision"])
def test_a_changed_model_content_or_precision_misses(tiny_models, tmp_path, embedded, monkeypatch, change):
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset({"avx512f", "avx512_bf16"}))
    model, settings = tiny_models["comet"], {}
    if change == "model content":  # the same weights, another file beside them: another content identity
        model = shutil.copytree(tiny_models["comet"], tmp_path / "copy")
        (model / "NOTES.txt").write_text("fine-tuned? who knows\n", encoding="utf-8")
    else:
        settings = {"precision": "bf16"}
    with Cache(tmp_path / "c.sqlite") as cache:
        score(tiny_models["comet"], HYPS_A, cache)
        embedded.clear()
        score(tiny_models["comet"], HYPS_A, cache)
        assert not KEPT & set(embedded)  # the unchanged setting hits (so the miss below is the change's)
        changed = score(model, HYPS_A, cache, **settings)
    assert KEPT <= set(embedded)
    assert changed == score(model, HYPS_A, **settings)


def _corrupt(path) -> int:
    """Spoil four stored rows, each a different way; returns how many."""
    with sqlite3.connect(path) as db:
        keys = [k for (k,) in db.execute("SELECT key FROM embedding ORDER BY key LIMIT 4")]
        db.execute("UPDATE embedding SET data=substr(data, 1, 60) WHERE key=?", (keys[0],))  # truncated
        db.execute("UPDATE embedding SET dtype='int64' WHERE key=?", (keys[1],))  # wrong dtype
        db.execute("UPDATE embedding SET shape='16x2' WHERE key=?", (keys[2],))  # wrong shape
        db.execute("UPDATE embedding SET data=zeroblob(length(data)) WHERE key=?", (keys[3],))  # bytes altered
    return len(keys)


def test_a_corrupt_entry_is_recomputed_and_overwritten_not_trusted(tiny_models, tmp_path, embedded, caplog):
    path = tmp_path / "c.sqlite"
    with Cache(path) as cache:
        first = score(tiny_models["comet"], HYPS_A, cache)
    spoiled = _corrupt(path)
    embedded.clear()
    with caplog.at_level(logging.WARNING), Cache(path) as cache:
        again = score(tiny_models["comet"], HYPS_A, cache)
        report = cache.take_embedding_report()
    assert len(KEPT & set(embedded)) == spoiled
    assert (report["hits"], report["misses"], report["corrupt"]) == (len(KEPT) - spoiled, spoiled, spoiled)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and f"{spoiled} cached sentence embeddings" in warnings[0]
    assert again == pytest.approx(first, abs=1e-6)  # re-embedded in a batch of their own: float noise at most
    embedded.clear()
    caplog.clear()
    with caplog.at_level(logging.WARNING), Cache(path) as cache:  # overwritten: read back whole now
        score(tiny_models["comet"], HYPS_A, cache)
    assert not KEPT & set(embedded) and not caplog.records


class Outputs(System):
    """A system that returns fixed hypotheses (no model, so never behind the translation cache)."""

    name = "outputs"

    def __init__(self, hyps):
        self.hyps = hyps

    def translate(self, sources, *, src_lang, tgt_lang):
        return Translation(list(self.hyps))


def test_the_cap_evicts_and_each_run_reports_its_use_of_the_cache(tiny_models, tmp_path, caplog):
    corpus = Corpus(name="toy", src_lang="en", tgt_lang="zh",
                    segments=[Segment(id=str(i), src=s, refs=[r]) for i, (s, r) in enumerate(zip(SRCS, REFS))])
    cap = 10 * ROW_BYTES
    reports = []
    for hyps in (HYPS_A, HYPS_B):  # two runs through the pipeline, each its own process state and connection
        release_all()
        with caplog.at_level(logging.INFO), Cache(tmp_path / "c.sqlite", embeddings_mb=cap / 2**20) as cache:
            metric = Comet(model=str(tiny_models["comet"]), device="cpu", batch_size=4, cpu_threads=1)
            run = evaluate(corpus, Outputs(hyps), [metric], cache=cache)
        reports.append(run.provenance["embedding_cache"])
    n = len(KEPT)
    assert reports[0] == {"entries": 10, "bytes": cap, "cap_bytes": cap, "hits": 0, "misses": n, "corrupt": 0,
                          "stored": n, "evicted": n - 10}
    assert reports[1] == {"entries": 10, "bytes": cap, "cap_bytes": cap, "hits": 10, "misses": n - 10,
                          "corrupt": 0, "stored": n - 10, "evicted": n - 10}
    assert any("embedding cache: 10 texts found, 18 embedded" in r.getMessage() for r in caplog.records)


def _blob(byte: int):
    import zlib

    data = bytes([byte]) * 100
    return "float32", "25", data, zlib.crc32(data)


def test_the_least_recently_used_go_first_and_a_zero_cap_keeps_none(tmp_path):
    with Cache(tmp_path / "c.sqlite", embeddings_mb=250 / 2**20) as cache:
        cache.put_embeddings({"a": _blob(1), "b": _blob(2)})
        assert set(cache.get_embeddings(["b"])) == {"b"}  # b is now used after a (a ties would keep by key)
        cache.put_embeddings({"c": _blob(3)})
        assert set(cache.get_embeddings(["a", "b", "c"])) == {"b", "c"}
        assert cache.get_embeddings(["c"])["c"] == _blob(3)
        report = cache.take_embedding_report()
        assert (report["entries"], report["bytes"], report["stored"], report["evicted"]) == (2, 200, 3, 1)
        assert cache.take_embedding_report()["stored"] == 0  # counts restart with each report
    with Cache(tmp_path / "none.sqlite", embeddings_mb=0) as cache:
        cache.put_embeddings({"a": _blob(1)})
        assert cache.get_embeddings(["a"]) == {} and cache.take_embedding_report()["entries"] == 0


def _fake_model(**hparams):
    base = {"encoder_model": "XLM-RoBERTa", "pretrained_model": "xlm-roberta-large", "layer": "mix",
            "layer_transformation": "sparsemax", "layer_norm": False, "pool": "avg"}
    return SimpleNamespace(hparams={**base, **hparams}, encoder=SimpleNamespace(max_positions=512))


@pytest.mark.parametrize("change", [*LAYER_SETTINGS, "max_positions", "identity", "precision", "device"])
def test_every_setting_that_decides_an_embedding_is_in_its_key(change):
    key = dict(identity="hub:" + "0" * 40, precision="32", device="cpu")
    before = embedding_space(_fake_model(), **key)
    model = _fake_model()
    if change in LAYER_SETTINGS:
        model = _fake_model(**{change: 7})
    elif change == "max_positions":
        model.encoder.max_positions = 256
    else:
        key[change] = {"identity": "hub:" + "1" * 40, "precision": "int8", "device": "cuda:0"}[change]
    assert embedding_space(model, **key) != before
    assert embedding_space(_fake_model(), **{**key, "device": "cuda:1"}) == embedding_space(
        _fake_model(), **{**key, "device": "cuda:0"})  # which GPU does not matter, the kind does
