"""A one-sided paired bootstrap ("is the current run worse?") over per-segment sufficient statistics.

The resampling is the comparison engine's (``mteval.compare.stats``: sacrebleu's draws, one
matrix product for all resamples); the gate adds the one-sided p-value, since a gate asks only
whether the current run got worse, not whether the two differ.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

#: Turns summed sufficient statistics, one row per resample, into one corpus score per row.
ScoreFn = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class PairedResult:
    """What the paired test says about ``effect`` (current minus baseline, signed so > 0 is better).

    Attributes:
        effect: the observed corpus-level effect on the full test set.
        p_value: one-sided p-value of "the current run is worse" (small = a significant drop).
        ci_low, ci_high: 95% percentile interval of the effect over the resamples.
        n_resamples, seed: what was drawn, so the number can be reproduced.
    """

    effect: float
    p_value: float
    ci_low: float
    ci_high: float
    n_resamples: int
    seed: int


def resample_counts(n: int, *, n_resamples: int, seed: int) -> np.ndarray:
    """How often each of ``n`` segments is drawn in each resample: an ``(n_resamples, n)`` matrix.

    Drawing the same indices for both systems is what makes the bootstrap paired.
    """
    from mteval.compare.stats import bootstrap_indices, index_counts

    return index_counts(bootstrap_indices(n, n_resamples, seed), n)


def paired_bootstrap(
    baseline: np.ndarray,
    current: np.ndarray,
    score: ScoreFn,
    *,
    higher_is_better: bool,
    n_resamples: int = 1000,
    seed: int = 12345,
) -> PairedResult:
    """Paired bootstrap resampling (Koehn, 2004) with the shift method for the p-value.

    Each resample draws segments with replacement, sums both systems' sufficient statistics
    over the drawn segments and recomputes both corpus scores from the sums (so BLEU and chrF are
    recomputed as corpus metrics, not averaged). The bootstrap distribution of the effect is
    centred at zero to model "no difference"; the p-value is the share of centred resamples at
    or below the observed effect, with the +1 correction so it is never exactly 0.

    Args:
        baseline, current: ``(n_segments, k)`` sufficient statistics, row ``i`` the same segment.
        score: summed statistics ``(m, k)`` -> corpus scores ``(m,)``.
        higher_is_better: the metric's direction (TER: False).
        n_resamples: bootstrap resamples. seed: the generator seed (fixed, so a gate is repeatable).
    """
    if baseline.shape != current.shape:
        raise ValueError(f"paired statistics differ in shape: {baseline.shape} vs {current.shape}")
    if baseline.shape[0] == 0:
        raise ValueError("no segments to resample")
    sign = 1.0 if higher_is_better else -1.0
    totals = np.vstack([current.sum(axis=0), baseline.sum(axis=0)])
    cur_score, base_score = score(totals)
    observed = sign * float(cur_score - base_score)
    counts = resample_counts(baseline.shape[0], n_resamples=n_resamples, seed=seed)
    effects = sign * (score(counts @ current) - score(counts @ baseline))
    centred = effects - effects.mean()
    # A tolerance so that a run compared with itself (all effects exactly 0) gets p = 1.
    p_value = (1 + int(np.sum(centred <= observed + 1e-12))) / (n_resamples + 1)
    low, high = np.percentile(effects, [2.5, 97.5])
    return PairedResult(observed, p_value, float(low), float(high), n_resamples, seed)


def mean_stats(scores: list[float]) -> np.ndarray:
    """Sufficient statistics of a mean (COMET): one ``[score, 1]`` row per segment."""
    return np.column_stack([np.asarray(scores, dtype=np.float64), np.ones(len(scores))])
