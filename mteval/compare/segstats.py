"""Per-segment sufficient statistics of one metric for every run: sacrebleu's, or the segment scores."""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import numpy as np

from mteval.compare.load import RunSet
from mteval.errors import IncomparableError
from mteval.results.rebuild import check_rebuilt, rebuild_metric, sacre_stats
from mteval.stats.resampling import mean_stats
from mteval.stats.scorers import MeanScorer, Scorer

log = logging.getLogger(__name__)


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


def _scored_positions(runset: RunSet, name: str) -> np.ndarray:
    """Segments every run scored with ``name``; refuses runs that scored different segments."""
    masks = [np.array([row.get(name) is not None for row in run.segments]) for run in runset.runs]
    for run, mask in zip(runset.runs[1:], masks[1:], strict=True):
        if not np.array_equal(mask, masks[0]):
            raise IncomparableError(f"{name}: {runset.first.path} scored {int(masks[0].sum())} segments but "
                                    f"{run.path} scored {int(mask.sum())}; they cannot be resampled together")
    return np.flatnonzero(masks[0])


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
    stored = [(str(run.path), run.scores["metrics"][name]["score"]) for run in runset.runs]
    metric = rebuild_metric(name, info, str(runset.first.path))
    if metric is not None:
        all_refs = runset.refs
        hyps = [[runset.hyps(i)[k] for k in pos] for i in range(len(runset.runs))]
        scorer, stats = sacre_stats(metric, name, runset.tgt_lang, hyps, [all_refs[k] for k in pos], stored,
                                    jobs=jobs)
    else:
        scorer = MeanScorer()
        stats = [mean_stats([run.segments[k][name] for k in pos]) for run in runset.runs]
        for (where, score), s in zip(stored, stats, strict=True):
            check_rebuilt(where, name, scorer.score(s.sum(axis=0)), score, model_based=True,
                          fix=" (leave it out with --metrics)")
    scores = np.array([scorer.score(s.sum(axis=0)) for s in stats])
    return MetricStats(name=name, higher_is_better=bool(info.get("higher_is_better", True)),
                       signature=info["signature"], scorer=scorer, segments=pos, stats=stats,
                       scores=scores, sacrebleu=metric is not None)


def default_jobs() -> int:
    """Worker processes for statistics extraction: the CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def segment_grid(runset: RunSet, name: str, *, higher_is_better: bool) -> np.ndarray:
    """The runs' stored segment scores of ``name``, systems x segments, NaN where unscored; signed so
    that higher is better."""
    grid = np.array([[np.nan if row.get(name) is None else float(row[name]) for row in run.segments]
                     for run in runset.runs])
    return grid if higher_is_better else -grid
