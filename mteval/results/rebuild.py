"""A metric rebuilt from a run's ``scores.json``, and its per-segment statistics recomputed and checked: for compare and gate.

Compare and the gate resample sacrebleu metrics (BLEU, chrF, TER) from their per-segment
sufficient statistics, which a run does not store: they are recomputed from the stored
hypotheses and references with the metric rebuilt from the class and settings ``scores.json``
names, and a run's corpus score rebuilt from them must equal the stored one, so nothing is ever
resampled with settings that do not reproduce the number being tested.
"""
from __future__ import annotations

import multiprocessing as mp
from typing import Any

import numpy as np

from mteval.errors import IncomparableError, MtevalError
from mteval.metrics.base import Metric, metric_class
from mteval.metrics.fasttok import speed_up
from mteval.metrics.sacre import SacreMetric
from mteval.metrics.sacre_stream import CHUNK_SEGMENTS, ref_streams
from mteval.metrics.sacre_stats import segment_statistics
from mteval.stats.scorers import Scorer, scorer_for

# Relative tolerance between a stored corpus score and the one rebuilt from segment statistics;
# absolute: sacrebleu's are bit-equal (1e-9), a model metric's mean may differ in the last digits.
_RTOL = 1e-9
_ATOL = {True: 1e-6, False: 1e-9}


def rebuild_metric(name: str, entry: dict[str, Any], where: str) -> SacreMetric | None:
    """The sacrebleu metric a ``scores.json`` entry was scored with, from its ``metric.class`` and
    ``settings``; None for other metrics (a model's segment scores are resampled as they are).

    Only mteval's sacrebleu metrics are imported and instantiated: the class name and settings come
    from a file, which must not be able to run code. Any other class (a user's metric outside mteval
    included) is read as a mean of its segment scores, which must reproduce its corpus score. Every
    stored setting must be a parameter of the class, so a run is never rebuilt with other settings.

    Raises:
        IncomparableError: no ``metric.class``, or settings that cannot be rebuilt.
    """
    spec = entry.get("metric")
    if not isinstance(spec, dict) or "class" not in spec:
        raise IncomparableError(f"{where}: metric {name!r} has no 'metric.class' in scores.json; "
                                "re-run it with this version of mteval")
    settings = spec.get("settings", {})
    if not isinstance(settings, dict):
        raise IncomparableError(f"{where}: metric {name!r}: 'metric.settings' must be an object")
    if not str(spec["class"]).startswith(f"{SacreMetric.__module__}."):
        # Not one of mteval's sacrebleu metrics (a model metric, or one a user added outside mteval): never
        # imported; its segment scores are resampled as they are, once they reproduce its corpus score.
        return None
    try:
        cls: type[Metric] = metric_class(str(spec["class"]))
    except LookupError as err:
        raise IncomparableError(f"{where}: metric {name!r}: {err}") from None
    if not issubclass(cls, SacreMetric):
        return None
    try:
        return cls(**settings)
    except (TypeError, ValueError, MtevalError) as err:
        raise IncomparableError(f"{where}: metric {name!r}: its settings {settings} cannot be rebuilt: {err}") from None


def check_rebuilt(where: str, name: str, rebuilt: float, stored: float, *, model_based: bool = False,
                  fix: str = "") -> None:
    """Refuse a corpus score that its segments do not reproduce (``fix``: what to do about a model metric's).

    Raises:
        IncomparableError: naming the run, both numbers and the likely cause.
    """
    if np.isclose(rebuilt, stored, rtol=_RTOL, atol=_ATOL[model_based]):
        return
    why = (f"its corpus score is not the mean of its segment scores, so it cannot be resampled{fix}" if model_based
           else "the file was edited or is incomplete")
    raise IncomparableError(f"{where}: {name} rebuilt from its segments is {rebuilt:.6f} but its corpus score is "
                            f"{stored:.6f}; {why}")


def sacre_stats(metric: SacreMetric, name: str, tgt_lang: str, hyps: list[list[str]], refs: list[list[str]],
                stored: list[tuple[str, float]], *, jobs: int = 1) -> tuple[Scorer, list[np.ndarray]]:
    """Per-segment sufficient statistics of a sacrebleu metric for each of several runs, checked.

    Args:
        hyps: per run, the hypotheses of the segments ``refs`` holds (segments without a reference left out).
        stored: per run, (where, stored corpus score), for the check and its message.
        jobs: forked worker processes (statistics are extracted in segment chunks).

    Returns:
        The scorer that turns summed statistics into the corpus score, and one float64
        ``(len(refs), n_stats)`` matrix per run.

    Raises:
        IncomparableError: a run's stored corpus score is not what its statistics give.
    """
    sacre = metric.sacrebleu_metric(tgt_lang)
    speed_up(sacre)
    scorer = scorer_for(sacre)
    prepared = [metric.prepare(run_hyps, tgt_lang) for run_hyps in hyps]
    stats = _extract(sacre, prepared, ref_streams([metric.prepare(r, tgt_lang) for r in refs]), jobs)
    for (where, score), s in zip(stored, stats, strict=True):
        check_rebuilt(where, name, scorer.score(s.sum(axis=0)), score)
    return scorer, stats


# Shared with forked workers: the sacrebleu object, reference streams and hypotheses.
_WORK: dict[str, Any] = {}


def _extract_chunk(bounds: tuple[int, int]) -> list[np.ndarray]:
    """Statistics of segments ``lo:hi`` for every run: references processed once for the chunk, and
    each distinct hypothesis of a segment scored once (a fifth of WMT22 outputs repeat another system's)."""
    lo, hi = bounds
    sacre, streams, hyps = _WORK["metric"], _WORK["streams"], _WORK["hyps"]
    where: dict[tuple[int, str], int] = {}
    for run_hyps in hyps:
        for k in range(lo, hi):
            where.setdefault((k, run_hyps[k]), len(where))
    keys = list(where)
    stats = np.asarray(segment_statistics(sacre, [h for _, h in keys], [s[lo:hi] for s in streams],
                                          rows=[k - lo for k, _ in keys]), dtype=np.float64)
    return [stats[[where[(k, run_hyps[k])] for k in range(lo, hi)]] for run_hyps in hyps]


def _extract(sacre: Any, hyps: list[list[str]], streams: list[list[str | None]], jobs: int) -> list[np.ndarray]:
    """Statistics for every run, in segment chunks spread over ``jobs`` forked processes."""
    n = len(streams[0])
    _WORK.update(metric=sacre, streams=streams, hyps=hyps)
    parallel = jobs > 1 and n >= 2 * jobs and "fork" in mp.get_all_start_methods()
    # Chunks of at most CHUNK_SEGMENTS: sacrebleu holds a chunk's reference n-grams at once (issue 21).
    n_chunks = max(4 * jobs if parallel else 1, -(-n // CHUNK_SEGMENTS))
    edges = np.linspace(0, n, n_chunks + 1).astype(int)
    chunks = [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:], strict=True) if b > a]
    try:
        if parallel:
            with mp.get_context("fork").Pool(jobs) as pool:
                parts = pool.map(_extract_chunk, chunks, chunksize=1)
        else:
            parts = [_extract_chunk(c) for c in chunks]
    finally:
        _WORK.clear()
    return [np.vstack([part[i] for part in parts]) for i in range(len(hyps))]
