"""agree_with_humans(): per metric, system- and segment-level agreement with human scores, with bootstrap intervals.

The intervals resample segments with the comparison's own bootstrap draws, so metric and human
scores move together: each resample's metric scores are the comparison's resampled corpus scores,
and a human system score moves by the change of its mean segment score on the resampled segments
(it stays fixed where the human file has no segment scores for it). Segment-level tau is
recomputed on the cells of the resampled segments.
"""
from __future__ import annotations

import numpy as np

from mteval.compare.comparison import Comparison, MetricComparison
from mteval.compare.human import AlignedHuman
from mteval.compare.meta import SYSTEM_STATS, Agreement, Estimate, MetricAgreement, segment_kendall
from mteval.stats.intervals import percentile_ci

def _segment_matrix(comp: Comparison, m: MetricComparison, runs: list[int]) -> np.ndarray:
    """The metric's segment scores of the matched runs, ``(len(runs), n_segments)``, signed higher-is-better."""
    grid = np.array([[np.nan if row.get(m.name) is None else float(row[m.name]) for row in comp.runset.runs[i].segments]
                     for i in runs])
    return grid if m.higher_is_better else -grid


def _human_resamples(human: AlignedHuman, m: MetricComparison) -> np.ndarray:
    """Resampled human system scores, ``(n_bootstrap, n_matched)``."""
    n_boot = m.counts.shape[0]
    base = np.tile(human.system, (n_boot, 1))
    if human.segments is None:
        return base
    seg = human.segments[:, m.segments]
    have = ~np.isnan(seg)
    with np.errstate(invalid="ignore", divide="ignore"):
        shift = (m.counts @ np.where(have, seg, 0.0).T) / (m.counts @ have.T.astype(np.float64))
        full = np.where(have, seg, 0.0).sum(axis=1) / have.sum(axis=1)
    moved = base + shift - full
    # A system without segment scores, or a resample that drew none of its scored segments, keeps its score.
    return np.where(np.isnan(moved), base, moved)


def _segment_level(comp: Comparison, m: MetricComparison, human: AlignedHuman) -> tuple[Estimate, int]:
    x = _segment_matrix(comp, m, human.runs)[:, m.segments]
    y = human.segments[:, m.segments]
    value = segment_kendall(x, y)
    cols = np.arange(x.shape[1])
    samples = np.array([segment_kendall(x[:, idx], y[:, idx])
                        for idx in (np.repeat(cols, row.astype(np.int64)) for row in m.counts)])
    n_cells = int((~np.isnan(x) & ~np.isnan(y)).sum())
    return Estimate(value, *percentile_ci(samples)), n_cells


def agree_with_humans(comp: Comparison, human: AlignedHuman) -> Agreement:
    """System-level Pearson, Kendall tau and pairwise accuracy of every metric against the human
    system scores, and segment-level Kendall tau where the human file has segment scores."""
    out = []
    for m in comp.metrics:
        sign = 1.0 if m.higher_is_better else -1.0
        scores = m.scores[human.runs]
        boot_metric = sign * m.boot[human.runs].T.astype(np.float64)
        boot_human = _human_resamples(human, m)
        stats = {}
        for name, fn in SYSTEM_STATS.items():
            stats[name] = Estimate(float(fn(sign * scores, human.system)), *percentile_ci(fn(boot_metric, boot_human)))
        n_cells = 0
        if human.segments is not None:
            stats["segment_kendall"], n_cells = _segment_level(comp, m, human)
        out.append(MetricAgreement(name=m.name, higher_is_better=m.higher_is_better, scores=scores, stats=stats,
                                   n_cells=n_cells))
    return Agreement(human=human, metrics=out, n_bootstrap=comp.n_bootstrap)
