"""evaluate(corpus, system, metrics) -> RunResult: preflight, translate, score."""
from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from mteval.cache import Cache
from mteval.cores import size_thread_pools
from mteval.errors import InputError
from mteval.hub.availability import ModelRef, check_models
from mteval.metrics.base import Metric
from mteval.metrics.cached import CachedMetric
from mteval.systems.base import System
from mteval.systems.cached import CachedSystem, check_count
from mteval.types import Corpus, MetricResult, RunResult, SentencePairs, Translation

log = logging.getLogger(__name__)


def required_models(system: System, metrics: Sequence[Metric]) -> list[ModelRef]:
    """Every model the run loads: the system's, then each metric's, in that order, each once."""
    return list(dict.fromkeys([*system.required_models(), *(r for m in metrics for r in m.required_models())]))


def preflight(corpus: Corpus, system: System, metrics: Sequence[Metric]) -> list[str]:
    """Everything that can fail before a model loads, in order: the inputs, references and sources too
    long to score, every model the run needs (one Hub check, all missing models named at once), each
    metric's files and settings, a judge of its own model. Returns the names of the metrics skipped
    for want of references (a reference-based metric on a corpus without any is never fatal, issue 10)."""
    system.preflight(corpus)
    has_refs = any(s.refs for s in corpus.segments)
    skipped = [m.name for m in metrics if m.needs_ref and not has_refs]
    for name in skipped:
        log.warning("%s: skipped, no segment has a reference (%d segments)", name, len(corpus))
    metrics = [m for m in metrics if m.name not in skipped]
    refs = [(i, r) for i, seg in enumerate(corpus.segments) for r in seg.refs]
    for metric in metrics:  # a reference or source too long to score is refused first, before any model
        refuse_oversized(metric, corpus, [r for _, r in refs], "reference", positions=[i for i, _ in refs])
        if metric.needs_src:
            refuse_oversized(metric, corpus, [s.src for s in corpus.segments], "source")
    check_models(required_models(system, metrics))
    for metric in metrics:
        metric.preflight()
    for metric in metrics:  # an LLM judge refuses to judge its own model's translations unless allowed
        metric.check_judged_system(system.fingerprint())
    return skipped


def translate(system: System, corpus: Corpus) -> Translation:
    """Translate every segment; warn first about sources the model cannot read whole."""
    sources = [s.src for s in corpus.segments]
    direction = {"src_lang": corpus.src_lang, "tgt_lang": corpus.tgt_lang}
    if system.uses_model:
        todo = set(system.pending(sources, **direction))
        if todo:
            system.warn_long_sources(corpus, todo)
    out = system.translate(sources, **direction)
    check_count(system, len(sources), out)
    return out


def report_long_inputs(metric: Metric, corpus: Corpus, result: MetricResult, *, show: int = 5) -> None:
    """Warn, with file:line, about segments longer than the metric's model reads: scored by their
    sentence pairs, or cut by the model (the rest unscored). The counts are in ``result.extra``."""
    info = result.extra.get("long_inputs") or {}
    for key, what in (("by_sentences_at", "scored by its sentence pairs instead"),
                      ("truncated_at", "the rest is not scored")):
        where = info.get(key) or []
        for i in where[:show]:
            seg = corpus.segments[i]
            log.warning("%s: the %s input is longer than the %d tokens it reads; %s",
                        seg.origin or seg.id, metric.name, info["limit"], what)
        if len(where) > show:
            log.warning("%s: %d more segments longer than %d tokens (%s)", metric.name, len(where) - show,
                        info["limit"], what)


def refuse_oversized(metric: Metric, corpus: Corpus, texts: list[str], field: str,
                     positions: list[int] | None = None) -> None:
    """Refuse, naming the segment, a text longer than the metric's ``max_chars``, or than a metric of
    unbounded cost may score (TER's ``max_words``)."""
    limit = metric.max_chars
    found = [(i, len(t)) for i, t in enumerate(texts) if limit is not None and len(t) > limit]
    unit, setting, why = "characters", f"max_chars={limit}", "its memory grows with the length"
    if not found:
        found = metric.oversized(texts, corpus.tgt_lang)
        unit = f"words as {metric.name} counts them (each CJK character is one)"
        setting, why = f"max_words={metric.max_words}", "its cost grows faster than the length"
    if found:
        i, n = found[0]
        seg = corpus.segments[positions[i] if positions is not None else i]
        more = f" ({len(found) - 1} more such texts)" if len(found) > 1 else ""
        raise InputError(seg.origin or seg.id, None,
                         f"the {field} has {n:,} {unit}, more than metrics.{metric.name}.{setting}{more}: {why}; "
                         f"split the segment, raise {setting.partition('=')[0]}, or drop {metric.name}")


def score(metric: Metric, corpus: Corpus, hyps: Sequence[str], *,
          pairs: Sequence[SentencePairs | None] | None = None) -> MetricResult | None:
    """Score with one metric (a :class:`CachedMetric` answers from the cache). None when the metric has
    nothing to score. ``pairs``: per segment, the system's (sentence, translation) pairs, for metrics
    that score an over-long segment by sentences."""
    srcs = [s.src for s in corpus.segments]
    if len(hyps) != len(srcs):
        raise RuntimeError(f"{metric.name}: {len(hyps)} hypotheses for {len(srcs)} segments")
    refuse_oversized(metric, corpus, list(hyps), "hypothesis")
    result = metric.score(hyps, [list(s.refs) for s in corpus.segments], srcs, tgt_lang=corpus.tgt_lang, pairs=pairs)
    if result is None:
        return None
    report_long_inputs(metric, corpus, result)  # a cached score is as long-input-affected as a fresh one
    # The class and settings that rebuild the metric (compare and gate resample BLEU/chrF statistics with it).
    inner = metric.inner if isinstance(metric, CachedMetric) else metric
    result.extra["metric"] = {"class": f"{type(inner).__module__}.{type(inner).__qualname__}",
                              "settings": inner.settings()}
    if inner.min_effect is not None:
        result.extra["metric"]["min_effect"] = inner.min_effect
    return result


def report_embeddings(cache: Cache) -> dict[str, int]:
    """The cache's sentence-embedding table and this run's use of it, logged when the run used it."""
    report = cache.take_embedding_report()
    if report["hits"] or report["misses"]:
        log.info("embedding cache: %d texts found, %d embedded (%d unreadable), %d evicted; %d entries, "
                 "%.1f of %.0f MB", report["hits"], report["misses"], report["corrupt"], report["evicted"],
                 report["entries"], report["bytes"] / 2**20, report["cap_bytes"] / 2**20)
    return report


def evaluate(
    corpus: Corpus,
    system: System,
    metrics: Sequence[Metric],
    *,
    cache: Cache | None = None,
    provenance: dict[str, Any] | None = None,
    translate_chunk_size: int = 64,
) -> RunResult:
    """Preflight, translate, score. Inputs are checked and every model located before any model
    loads, so bad data or a missing model fails in seconds, not after translating."""
    if cache is not None:
        metrics = [CachedMetric(m, cache) for m in metrics]
        if system.uses_model:  # baselines without a model (file, copy) are not worth caching
            system = CachedSystem(system, cache, chunk_size=translate_chunk_size)
    skipped = preflight(corpus, system, metrics)
    metrics = [m for m in metrics if m.name not in skipped]
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    translation = translate(system, corpus)
    timings["translate_s"] = round(time.perf_counter() - t0, 3)
    results: dict[str, MetricResult] = {}
    unscored: dict[str, dict[str, Any]] = {}
    for metric in metrics:
        t0 = time.perf_counter()
        size_thread_pools()
        result = score(metric, corpus, translation.hyps, pairs=translation.sentence_pairs)
        timings[f"{metric.name}_s"] = round(time.perf_counter() - t0, 3)
        if result is None:
            skipped.append(metric.name)
            log.warning("%s: skipped, no segment has a reference (%d segments)", metric.name, len(corpus))
        elif result.n_scored == 0:  # e.g. an LLM judge whose every answer was unparsable: no score, its counts kept
            unscored[metric.name] = {k: v for k, v in result.to_dict().items() if k != "score"}
            log.warning("%s: no segment could be scored; the counts are in scores.json provenance.unscored_metrics",
                        metric.name)
        else:
            results[metric.name] = result
    prov = {**(provenance or {}), "system": system.fingerprint(), "data": corpus.provenance,
            "timings": timings, "skipped_metrics": skipped,
            "sentences_split_further": translation.counters.get("sentences_split_further", 0),
            "outputs_length_capped": translation.counters.get("outputs_length_capped", 0)}
    if unscored:
        prov["unscored_metrics"] = unscored
    prov["long_inputs"] = {name: r.extra["long_inputs"] for name, r in results.items() if "long_inputs" in r.extra}
    if cache is not None:
        prov["embedding_cache"] = report_embeddings(cache)
    return RunResult(dataset=corpus.name, system=system.name, corpus=corpus, hypotheses=translation.hyps,
                     sentence_pairs=translation.sentence_pairs, metrics=results, provenance=prov)
