"""evaluate(corpus, system, metrics) -> RunResult: translate (through the cache), then score."""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from typing import Any

from mteval.hub.availability import check_offline
from mteval.cache import Cache, digest
from mteval.cores import size_thread_pools
from mteval.errors import ConfigError, InputError
from mteval.metrics.base import Metric
from mteval.provenance import metric_fingerprint
from mteval.systems.base import System
from mteval.types import Corpus, MetricResult, RunResult

log = logging.getLogger(__name__)


def translate(system: System, corpus: Corpus, *, cache: Cache | None = None, chunk_size: int = 64) -> list[str]:
    """Translate every segment (see :func:`translate_with_pairs`)."""
    return translate_with_pairs(system, corpus, cache=cache, chunk_size=chunk_size)[0]


def translate_with_pairs(
    system: System, corpus: Corpus, *, cache: Cache | None = None, chunk_size: int = 64
) -> tuple[list[str], list[list[tuple[str, str]] | None]]:
    """Translate every segment; also return, per segment, the (sentence, translation) pairs a
    sentence-by-sentence system joined into it (None for one sentence or a system without pairs).

    The pairs are cached beside the translations (under the fingerprint key + ``/sentences``), so a
    resumed or repeated run still has them for the metrics that score long segments by sentences.

    Cached translations are reused and new ones cached chunk by chunk.

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
        got = _pairs_of(system, sources)
        return hyps, [got.get(s) for s in sources]
    key = digest({"system": system.fingerprint(), **kwargs})
    unique = list(dict.fromkeys(sources))
    done = cache.get_translations(key, unique)
    pairs_key = key + "/sentences"
    pairs = {s: _decode_pairs(v) for s, v in cache.get_translations(pairs_key, unique).items()}
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
        if fresh:
            pairs.update({s: _decode_pairs(v) for s, v in cache.get_translations(pairs_key, list(fresh)).items()})
        todo = [s for s in chunk if s not in fresh]
        if todo:
            size_thread_pools()  # another run may have started or ended since the last chunk
            hyps = system.translate(todo, **kwargs)
            _check_count(system, len(todo), hyps)
            got = _pairs_of(system, todo)
            # Pairs first: a run killed between the two writes then re-translates rather than losing them.
            if got:
                stored = cache.put_translations(pairs_key, [(s, json.dumps(p, ensure_ascii=False))
                                                            for s, p in got.items()])
                pairs.update({s: _decode_pairs(v) for s, v in stored.items()})
            done.update(cache.put_translations(key, zip(todo, hyps, strict=True)))
            translated += len(todo)
        log.info("%s: translated %d/%d", system.name, min(start + chunk_size, len(missing)), len(missing))
    if translated < len(missing):
        log.info("%s: %d sources were translated meanwhile by another run sharing the cache",
                 system.name, len(missing) - translated)
    return [done[s] for s in sources], [pairs.get(s) for s in sources]


def _pairs_of(system: System, sources: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
    """The sentence pairs the system kept for its last call, for sources of more than one sentence."""
    kept = getattr(system, "last_sentence_pairs", None)
    if not isinstance(kept, list) or len(kept) != len(sources):
        return {}
    return {s: [(a, b) for a, b in p] for s, p in zip(sources, kept, strict=True) if len(p) > 1}


def _decode_pairs(value: str) -> list[tuple[str, str]]:
    return [(a, b) for a, b in json.loads(value)]


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
    metric: Metric, corpus: Corpus, hyps: Sequence[str], *, cache: Cache | None = None,
    pairs: Sequence[list[tuple[str, str]] | None] | None = None,
) -> MetricResult | None:
    """Score with one metric, through the metric cache. None when the metric has nothing to score.

    ``pairs``: per segment, the system's (sentence, translation) pairs, for metrics that score an
    over-long segment by sentences."""
    srcs = [s.src for s in corpus.segments]
    refs = [list(s.refs) for s in corpus.segments]
    if len(hyps) != len(srcs):
        raise RuntimeError(f"{metric.name}: {len(hyps)} hypotheses for {len(srcs)} segments")
    fp = metric_fingerprint(metric)
    key = None
    result: MetricResult | None
    if cache is not None:
        inputs: dict[str, Any] = {"metric": fp, "tgt": corpus.tgt_lang, "src": srcs, "hyp": list(hyps), "refs": refs}
        if pairs is not None and any(pairs):
            inputs["pairs"] = [p and [list(x) for x in p] for p in pairs]
        key = digest(inputs)
        hit = cache.get_metric(key)
        if hit is not None:
            log.info("%s: cached result", metric.name)
            if hit.get("none"):
                return None
            result = _with_settings(MetricResult(**hit), metric, fp)
            report_long_inputs(metric, corpus, result)  # a cached score is as long-input-affected as a fresh one
            return result
    refuse_oversized(metric, corpus, list(hyps), "hypothesis")
    result = metric.score(hyps, refs, srcs, tgt_lang=corpus.tgt_lang, pairs=pairs)
    if result is not None:
        report_long_inputs(metric, corpus, result)
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
    # A reference-based metric on a corpus without references has nothing to score: it is skipped,
    # and its model is neither located nor demanded offline (issue 10: never fatal).
    has_refs = any(s.refs for s in corpus.segments)
    skipped = [m.name for m in metrics if m.needs_ref and not has_refs]
    for name in skipped:
        log.warning("%s: skipped, no segment has a reference (%d segments)", name, len(corpus))
    metrics = [m for m in metrics if m.name not in skipped]
    for metric in metrics:
        preflight = getattr(metric, "preflight", None)
        if preflight is not None:
            preflight()
    refs = [(i, r) for i, seg in enumerate(corpus.segments) for r in seg.refs]
    for metric in metrics:  # a reference too long to score is refused before translating
        refuse_oversized(metric, corpus, [r for _, r in refs], "reference", positions=[i for i, _ in refs])
    check_offline(system, metrics)
    for metric in metrics:  # an LLM judge refuses to judge its own model's translations unless allowed
        check_judged = getattr(metric, "check_judged_system", None)
        if check_judged is not None:
            check_judged(system.fingerprint())
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    hyps, pairs = translate_with_pairs(system, corpus, cache=cache, chunk_size=translate_chunk_size)
    timings["translate_s"] = round(time.perf_counter() - t0, 3)
    results: dict[str, MetricResult] = {}
    unscored: dict[str, dict[str, Any]] = {}
    for metric in metrics:
        t0 = time.perf_counter()
        size_thread_pools()
        result = score(metric, corpus, hyps, cache=cache, pairs=pairs)
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
            "sentences_split_further": getattr(system, "n_split_further", 0),
            "outputs_length_capped": getattr(system, "n_length_capped", 0)}
    if unscored:
        prov["unscored_metrics"] = unscored
    prov["long_inputs"] = {name: r.extra["long_inputs"] for name, r in results.items() if "long_inputs" in r.extra}
    return RunResult(dataset=corpus.name, system=system.name, corpus=corpus, hypotheses=hyps, sentence_pairs=pairs,
                     metrics=results, provenance=prov)
