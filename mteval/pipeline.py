"""evaluate(corpus, system, metrics) -> RunResult: translate (through the cache), then score."""
from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from mteval.cache import Cache, digest
from mteval.errors import ConfigError, InputError
from mteval.metrics.base import Metric
from mteval.prefetch import check_offline
from mteval.provenance import metric_fingerprint
from mteval.systems.base import System
from mteval.types import Corpus, MetricResult, RunResult

log = logging.getLogger(__name__)


def translate(system: System, corpus: Corpus, *, cache: Cache | None = None, chunk_size: int = 64) -> list[str]:
    """Translate every segment, reusing cached translations and caching new ones chunk by chunk.

    A run killed mid-way keeps every finished chunk (each is one SQLite transaction), so a restart
    translates only what is missing. Before each chunk the cache is asked again, so two runs
    sharing a cache skip what the other has finished meanwhile. Systems without a model (file,
    copy) bypass the cache.
    """
    if chunk_size < 1:
        raise ConfigError(f"translate_chunk_size must be at least 1, got {chunk_size}")
    sources = [s.src for s in corpus.segments]
    kwargs = {"src_lang": corpus.src_lang, "tgt_lang": corpus.tgt_lang}
    if cache is None or not getattr(system, "uses_model", False):
        if getattr(system, "uses_model", False):
            warn_long_sources(system, corpus, set(sources))
        hyps = system.translate(sources, **kwargs)
        _check_count(system, len(sources), hyps)
        return hyps
    key = digest({"system": system.fingerprint(), **kwargs})
    unique = list(dict.fromkeys(sources))
    done = cache.get_translations(key, unique)
    missing = [s for s in unique if s not in done]
    log.info("%s: %d of %d unique sources cached, %d to translate",
             system.name, len(unique) - len(missing), len(unique), len(missing))
    if missing:
        warn_long_sources(system, corpus, set(missing))
    translated = 0
    for start in range(0, len(missing), chunk_size):
        chunk = missing[start : start + chunk_size]
        fresh = cache.get_translations(key, chunk)  # another run on the same cache may have done some
        done.update(fresh)
        todo = [s for s in chunk if s not in fresh]
        if todo:
            hyps = system.translate(todo, **kwargs)
            _check_count(system, len(todo), hyps)
            done.update(cache.put_translations(key, zip(todo, hyps, strict=True)))
            translated += len(todo)
        log.info("%s: translated %d/%d", system.name, min(start + chunk_size, len(missing)), len(missing))
    if translated < len(missing):
        log.info("%s: %d sources were translated meanwhile by another run sharing the cache",
                 system.name, len(missing) - translated)
    return [done[s] for s in sources]


def _check_count(system: System, expected: int, hyps: Sequence[str]) -> None:
    if len(hyps) != expected:
        raise RuntimeError(f"{system.name} returned {len(hyps)} hypotheses for {expected} sources")


def warn_long_sources(system: System, corpus: Corpus, which: set[str], *, show: int = 5) -> None:
    """Warn, with file:line, about sources with a sentence longer than the model's input limit.

    Such a sentence is split further at clause marks (never truncated), which can change the
    translation; the warning says where, so the user can check. Counting tokens needs the
    tokenizer, so this runs only when there is something to translate.
    """
    limit = getattr(system, "max_input_tokens", None)
    count_tokens = getattr(system, "count_tokens", None)
    if limit is None or count_tokens is None:
        return
    from mteval.text.sentences import split_sentences

    segs = [s for s in corpus.segments if s.src in which]
    pieces = [split_sentences(s.src, corpus.src_lang) if getattr(system, "split_sentences", False) else [s.src]
              for s in segs]
    flat = [p for ps in pieces for p in ps]
    counts = iter(count_tokens(flat) if flat else [])
    long = []
    for seg, ps in zip(segs, pieces, strict=True):
        longest = max((next(counts) for _ in ps), default=0)
        if longest > limit:
            long.append((seg, longest))
    for seg, n in long[:show]:
        log.warning("%s: a sentence of %d tokens is longer than %s's max_input_tokens=%d; it is split at clause "
                    "marks before translating", seg.origin or seg.id, n, system.name, limit)
    if len(long) > show:
        log.warning("%d more sources have a sentence longer than max_input_tokens=%d", len(long) - show, limit)


def warn_long_for_metric(metric: Metric, corpus: Corpus, hyps: Sequence[str], *, show: int = 5) -> None:
    """Warn, with file:line, about texts longer than a COMET encoder reads (the rest is cut off unscored)."""
    load = getattr(metric, "load", None)
    if load is None:
        return
    encoder = getattr(load(), "encoder", None)
    tokenizer = getattr(encoder, "tokenizer", None)
    try:
        limit = int(encoder.max_positions) - 2  # what COMET's prepare_sample truncates to
    except (AttributeError, TypeError, ValueError):
        return
    if tokenizer is None:
        return
    fields = {"source": [s.src for s in corpus.segments], "hypothesis": list(hyps)}
    if getattr(metric, "needs_ref", False):
        fields["reference"] = [s.refs[0] if s.refs else "" for s in corpus.segments]
    long = []
    for field, texts in fields.items():
        lengths = [len(ids) for ids in tokenizer(texts, add_special_tokens=True)["input_ids"]]
        long += [(corpus.segments[i], field, n) for i, n in enumerate(lengths) if n > limit]
    for seg, field, n in long[:show]:
        log.warning("%s: the %s has %d tokens; %s reads at most %d, the rest is not scored",
                    seg.origin or seg.id, field, n, metric.name, limit)
    if len(long) > show:
        log.warning("%s: %d more texts longer than %d tokens", metric.name, len(long) - show, limit)


def refuse_oversized(metric: Metric, corpus: Corpus, texts: list[str], field: str,
                     positions: list[int] | None = None) -> None:
    """Refuse, naming the segment, a text longer than a metric of unbounded cost may score (TER)."""
    oversized = getattr(metric, "oversized", None)
    found = oversized(texts, corpus.tgt_lang) if oversized is not None else []
    if found:
        i, words = found[0]
        seg = corpus.segments[positions[i] if positions is not None else i]
        more = f" ({len(found) - 1} more such texts)" if len(found) > 1 else ""
        raise InputError(seg.origin or seg.id, None,
                         f"the {field} has {words} words as {metric.name} counts them (each CJK character is one), "
                         f"more than metrics.{metric.name}.max_words={metric.max_words}{more}: its cost grows "
                         f"faster than the length; split the segment, raise max_words, or drop {metric.name}")


def score(
    metric: Metric, corpus: Corpus, hyps: Sequence[str], *, cache: Cache | None = None
) -> MetricResult | None:
    """Score with one metric, through the metric cache. None when the metric has nothing to score."""
    srcs = [s.src for s in corpus.segments]
    refs = [list(s.refs) for s in corpus.segments]
    if len(hyps) != len(srcs):
        raise RuntimeError(f"{metric.name}: {len(hyps)} hypotheses for {len(srcs)} segments")
    fp = metric_fingerprint(metric)
    key = None
    result: MetricResult | None
    if cache is not None:
        key = digest({"metric": fp, "tgt": corpus.tgt_lang, "src": srcs, "hyp": list(hyps), "refs": refs})
        hit = cache.get_metric(key)
        if hit is not None:
            log.info("%s: cached result", metric.name)
            return None if hit.get("none") else _with_settings(MetricResult(**hit), metric, fp)
    refuse_oversized(metric, corpus, list(hyps), "hypothesis")
    if not metric.needs_ref or any(refs):
        warn_long_for_metric(metric, corpus, hyps)
    result = metric.score(hyps, refs, srcs, tgt_lang=corpus.tgt_lang)
    if cache is not None and key is not None:
        cache.put_metric(key, {"none": True} if result is None else result.__dict__)
    return None if result is None else _with_settings(result, metric, fp)


def _with_settings(result: MetricResult, metric: Metric, fp: dict[str, Any]) -> MetricResult:
    """Record the class and settings that rebuild the metric (compare and gate resample BLEU/chrF
    statistics with it). Set on cached results too, which may predate this field."""
    result.extra["metric"] = {"class": f"{type(metric).__module__}.{type(metric).__qualname__}",
                              "settings": fp["settings"]}
    return result


def evaluate(
    corpus: Corpus,
    system: System,
    metrics: Sequence[Metric],
    *,
    cache: Cache | None = None,
    provenance: dict[str, Any] | None = None,
    translate_chunk_size: int = 64,
) -> RunResult:
    """Check inputs, translate, score. Inputs are checked and model files located before
    any model loads, so bad data or a missing COMET model fails in seconds, not after translating."""
    sources = [s.src for s in corpus.segments]
    system.check_inputs(sources)
    for metric in metrics:
        preflight = getattr(metric, "preflight", None)
        if preflight is not None:
            preflight()
    refs = [(i, r) for i, seg in enumerate(corpus.segments) for r in seg.refs]
    for metric in metrics:  # a reference too long to score is refused before translating
        refuse_oversized(metric, corpus, [r for _, r in refs], "reference", positions=[i for i, _ in refs])
    check_offline(system, metrics)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    hyps = translate(system, corpus, cache=cache, chunk_size=translate_chunk_size)
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
            "timings": timings, "skipped_metrics": skipped,
            "sentences_split_further": getattr(system, "n_split_further", 0),
            "outputs_length_capped": getattr(system, "n_length_capped", 0)}
    return RunResult(dataset=corpus.name, system=system.name, corpus=corpus, hypotheses=hyps,
                     metrics=results, provenance=prov)
