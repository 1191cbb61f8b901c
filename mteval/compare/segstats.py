"""Per-segment sufficient statistics of one metric for every run: sacrebleu's, or the segment scores."""
from __future__ import annotations

import logging
import multiprocessing as mp
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from mteval.compare.fasttok import speed_up
from mteval.compare.load import RunSet
from mteval.compare.scorers import MeanScorer, Scorer, scorer_for
from mteval.errors import IncomparableError

log = logging.getLogger(__name__)

# Relative tolerance between the stored corpus score and the one rebuilt from segments.jsonl.
_REBUILD_RTOL = 1e-9


@dataclass
class MetricStats:
    """One metric's statistics for every system on the same segments.

    Attributes:
        name: the metric name in the runs.
        higher_is_better: direction, from scores.json.
        signature: the shared signature.
        scorer: turns summed statistics into a corpus score.
        segments: corpus positions of the scored segments (all systems score the same ones).
        stats: one ``(len(segments), n_stats)`` float64 matrix per system.
        scores: the corpus score of each system, rebuilt from its statistics.
        sacrebleu: the statistics are sacrebleu's (resampled in float32, as sacrebleu does).
    """

    name: str
    higher_is_better: bool
    signature: str
    scorer: Scorer
    segments: np.ndarray
    stats: list[np.ndarray]
    scores: np.ndarray
    sacrebleu: bool


def rebuild_metric(info: dict[str, Any]) -> Any:
    """The sacrebleu-backed mteval metric a run was scored with, rebuilt from scores.json's
    ``metric`` entry (class and settings); None for other metrics (their segment scores suffice).

    Only classes under ``mteval.metrics`` are imported: the class name comes from a file.
    """
    from mteval.metrics.base import metric_class
    from mteval.metrics.sacre import SacreMetric

    path = info.get("class", "")
    try:
        cls = metric_class(path)
    except LookupError as err:
        raise IncomparableError(f"cannot rebuild metric: {err}") from None
    if not issubclass(cls, SacreMetric):
        return None
    try:
        return cls(**info.get("settings", {}))
    except (TypeError, ValueError) as err:
        raise IncomparableError(f"cannot rebuild {path} from its stored settings: {err}") from None


def _scored_positions(runset: RunSet, name: str) -> np.ndarray:
    """Segments every run scored with ``name``; refuses runs that scored different segments."""
    masks = [np.array([row.get(name) is not None for row in run.segments]) for run in runset.runs]
    for run, mask in zip(runset.runs[1:], masks[1:], strict=True):
        if not np.array_equal(mask, masks[0]):
            raise IncomparableError(f"{name}: {runset.first.path} scored {int(masks[0].sum())} segments but "
                                    f"{run.path} scored {int(mask.sum())}; they cannot be resampled together")
    return np.flatnonzero(masks[0])


# Shared with forked workers: the sacrebleu object, prepared references and hypotheses.
_WORK: dict[str, Any] = {}


def _extract_chunk(bounds: tuple[int, int]) -> list[np.ndarray]:
    """Statistics of segments ``lo:hi`` for every run: references cached for the chunk, and each
    distinct hypothesis of a segment scored once (a fifth of WMT22 outputs repeat another system's)."""
    lo, hi = bounds
    sacre, streams, hyps = _WORK["metric"], _WORK["streams"], _WORK["hyps"]
    cache = sacre._cache_references([stream[lo:hi] for stream in streams])
    where: dict[tuple[int, str], int] = {}
    for run_hyps in hyps:
        for k in range(lo, hi):
            where.setdefault((k, run_hyps[k]), len(where))
    keys = list(where)
    sacre._ref_cache = [cache[k - lo] for k, _ in keys]
    stats = np.asarray(sacre._extract_corpus_statistics([h for _, h in keys], None), dtype=np.float64)
    return [stats[[where[(k, run_hyps[k])] for k in range(lo, hi)]] for run_hyps in hyps]


def _sacrebleu_stats(metric: Any, sacre: Any, runset: RunSet, pos: np.ndarray, jobs: int) -> list[np.ndarray]:
    """sacrebleu's per-segment statistics for every run, in segment chunks spread over ``jobs``
    forked processes (references are processed once per chunk, not once per run)."""
    from mteval.metrics.sacre import ref_streams

    tgt = runset.tgt_lang
    all_refs = runset.refs
    refs = [metric.prepare(all_refs[k], tgt) for k in pos]
    hyps = []
    for i in range(len(runset.runs)):
        run_hyps = runset.hyps(i)
        hyps.append(metric.prepare([run_hyps[k] for k in pos], tgt))
    _WORK.update(metric=sacre, streams=ref_streams(refs), hyps=hyps)
    n = len(pos)
    parallel = jobs > 1 and n >= 2 * jobs and "fork" in mp.get_all_start_methods()
    n_chunks = 4 * jobs if parallel else 1
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


def metric_stats(runset: RunSet, name: str, *, jobs: int = 1) -> MetricStats:
    """Collect ``name``'s statistics for every run.

    sacrebleu metrics (BLEU, chrF, TER) are rebuilt from the stored class and settings and their
    sufficient statistics are extracted from the stored hypotheses and references, after the same
    normalisation the run applied; other metrics (COMET, CometKiwi) contribute their segment scores.
    Either way the corpus score rebuilt from the statistics must equal the stored one.

    Raises:
        IncomparableError: the stored score cannot be reproduced, or the metric cannot be resampled.
    """
    info = runset.first.scores["metrics"][name]
    pos = _scored_positions(runset, name)
    if len(pos) == 0:
        raise IncomparableError(f"{name}: no segment has a score")
    metric = rebuild_metric(info["metric"]) if "metric" in info else None
    if metric is not None:
        sacre = metric.sacrebleu_metric(runset.tgt_lang)
        speed_up(sacre)
        scorer: Scorer = scorer_for(sacre)
        stats = _sacrebleu_stats(metric, sacre, runset, pos, jobs)
        is_sacre = True
    else:
        scorer = MeanScorer()
        stats = []
        for run in runset.runs:
            seg = np.array([run.segments[k][name] for k in pos], dtype=np.float64)
            stats.append(np.column_stack([seg, np.ones_like(seg)]))
        is_sacre = False
    scores = np.array([scorer.score(s.sum(axis=0)) for s in stats])
    for run, got in zip(runset.runs, scores, strict=True):
        stored = run.scores["metrics"][name]["score"]
        if not np.isclose(got, stored, rtol=_REBUILD_RTOL, atol=1e-9 if is_sacre else 1e-6):
            raise IncomparableError(
                f"{run.path}: {name} rebuilt from segments.jsonl is {got:.6f} but scores.json says {stored:.6f}"
                + ("" if is_sacre else "; its corpus score is not the mean of its segment scores, so it cannot "
                   "be resampled (leave it out with --metrics)"))
    return MetricStats(name=name, higher_is_better=bool(info.get("higher_is_better", True)),
                       signature=info["signature"], scorer=scorer, segments=pos, stats=stats,
                       scores=scores, sacrebleu=is_sacre)


def default_jobs() -> int:
    """Worker processes for statistics extraction: the CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)
