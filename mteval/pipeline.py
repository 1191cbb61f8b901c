"""evaluate(corpus, system, metrics) -> RunResult: translate (through the cache), then score."""
from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from mteval.cache import Cache, digest
from mteval.metrics.base import Metric
from mteval.provenance import metric_fingerprint
from mteval.systems.base import System
from mteval.types import Corpus, MetricResult, RunResult

log = logging.getLogger(__name__)


def translate(system: System, corpus: Corpus, *, cache: Cache | None = None, chunk_size: int = 64) -> list[str]:
    """Translate every segment, reusing cached translations and caching new ones chunk by chunk.

    A run killed mid-way keeps every finished chunk, so a restart translates only what is
    missing. Systems without a model (file, copy) bypass the cache.
    """
    sources = [s.src for s in corpus.segments]
    kwargs = {"src_lang": corpus.src_lang, "tgt_lang": corpus.tgt_lang}
    if cache is None or not getattr(system, "uses_model", False):
        return system.translate(sources, **kwargs)
    key = digest({"system": system.fingerprint(), **kwargs})
    done = cache.get_translations(key, sources)
    missing = list(dict.fromkeys(s for s in sources if s not in done))
    log.info("%s: %d of %d unique sources cached, %d to translate",
             system.name, len(set(sources)) - len(missing), len(set(sources)), len(missing))
    for start in range(0, len(missing), chunk_size):
        chunk = missing[start : start + chunk_size]
        hyps = system.translate(chunk, **kwargs)
        cache.put_translations(key, zip(chunk, hyps, strict=True))
        done.update(zip(chunk, hyps, strict=True))
        log.info("%s: translated %d/%d", system.name, min(start + chunk_size, len(missing)), len(missing))
    return [done[s] for s in sources]


def score(
    metric: Metric, corpus: Corpus, hyps: Sequence[str], *, cache: Cache | None = None
) -> MetricResult | None:
    """Score with one metric, through the metric cache. None when the metric has nothing to score."""
    srcs = [s.src for s in corpus.segments]
    refs = [list(s.refs) for s in corpus.segments]
    key = None
    if cache is not None:
        key = digest({"metric": metric_fingerprint(metric), "tgt": corpus.tgt_lang,
                      "src": srcs, "hyp": list(hyps), "refs": refs})
        hit = cache.get_metric(key)
        if hit is not None:
            log.info("%s: cached result", metric.name)
            return None if hit.get("none") else MetricResult(**hit)
    result = metric.score(hyps, refs, srcs, tgt_lang=corpus.tgt_lang)
    if result is not None:
        # Enough to rebuild the metric later (compare and gate resample BLEU/chrF statistics).
        fp = metric_fingerprint(metric)
        result.extra["metric"] = {"class": f"{type(metric).__module__}.{type(metric).__qualname__}",
                                  "settings": fp["settings"]}
    if cache is not None and key is not None:
        cache.put_metric(key, {"none": True} if result is None else result.__dict__)
    return result


def evaluate(
    corpus: Corpus,
    system: System,
    metrics: Sequence[Metric],
    *,
    cache: Cache | None = None,
    provenance: dict[str, Any] | None = None,
) -> RunResult:
    """Check inputs, translate, score. Inputs are checked and model files located before
    any model loads, so bad data or a missing COMET model fails in seconds, not after translating."""
    sources = [s.src for s in corpus.segments]
    system.check_inputs(sources)
    for metric in metrics:
        preflight = getattr(metric, "preflight", None)
        if preflight is not None:
            preflight()
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    hyps = translate(system, corpus, cache=cache)
    timings["translate_s"] = round(time.perf_counter() - t0, 3)
    results: dict[str, MetricResult] = {}
    skipped: list[str] = []
    for metric in metrics:
        t0 = time.perf_counter()
        result = score(metric, corpus, hyps, cache=cache)
        timings[f"{metric.name}_s"] = round(time.perf_counter() - t0, 3)
        if result is None:
            skipped.append(metric.name)
            log.warning("%s: skipped, no segment has a reference (%d segments)", metric.name, len(corpus))
        else:
            results[metric.name] = result
    prov = {**(provenance or {}), "system": system.fingerprint(), "data": corpus.provenance,
            "timings": timings, "skipped_metrics": skipped}
    return RunResult(dataset=corpus.name, system=system.name, corpus=corpus, hypotheses=hyps,
                     metrics=results, provenance=prov)
