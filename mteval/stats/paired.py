"""Paired significance tests over summed sufficient statistics: bootstrap (two- and one-sided) and approximate randomisation.

The two-sided tests are sacrebleu's (``sacrebleu/significance.py``, after Koehn 2004 and
Riezler & Maxwell 2005), with the same random draws (:mod:`mteval.stats.resampling`), so their
p-values equal ``sacrebleu --paired-bs`` / ``--paired-ar``. Randomisation sums are
``swap @ (baseline - system) + system``: one matrix product for all trials. The one-sided
bootstrap is the gate's, which asks only whether the current run got worse.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mteval.stats.intervals import percentile_ci
from mteval.stats.resampling import bootstrap_counts
from mteval.stats.scorers import Scorer

# Trials per block in approximate randomisation: bounds the float64 swap matrix to ~16 MB.
_AR_BLOCK = 1000

#: Turns summed sufficient statistics, one row per resample, into one corpus score per row.
ScoreFn = Callable[[np.ndarray], np.ndarray]


def p_value(null_stats: np.ndarray, observed: float) -> float:
    """``(#{null > observed} + 1) / (n + 1)``, as sacrebleu (after multeval), except that two
    systems with exactly the same score get p = 1.

    sacrebleu returns ``1 / (n + 1)`` there: no resample exceeds a zero difference, so a system
    compared with an identical copy of itself comes out "significantly different", and two runs
    of one system would land in different rank clusters.
    """
    if observed == 0:
        return 1.0
    return (int(np.sum(null_stats > observed)) + 1) / (len(null_stats) + 1)


def paired_bootstrap_p(boot_a: np.ndarray, boot_b: np.ndarray, score_a: float, score_b: float) -> float:
    """Paired bootstrap p-value of the difference between two systems (Koehn 2004, as sacrebleu):
    the resampled absolute differences, centred on their mean, against the observed difference."""
    diffs = np.abs(boot_b - boot_a)
    return p_value(diffs - diffs.mean(), abs(score_a - score_b))


def pairwise_bootstrap_p(boot: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Paired bootstrap p-values between every two systems (1 on the diagonal)."""
    n = len(scores)
    out = np.ones((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            out[i, j] = out[j, i] = paired_bootstrap_p(boot[i], boot[j], scores[i], scores[j])
    return out


def paired_ar_p(scorer: Scorer, baseline: np.ndarray, systems: list[np.ndarray], swap: np.ndarray,
                baseline_score: float, scores: list[float]) -> list[float]:
    """Paired approximate-randomisation p-values of each system against the baseline.

    In each trial, segment ``j`` of pseudo-system A takes the baseline's statistics where
    ``swap[t, j]`` and the system's otherwise; pseudo-system B takes the rest. The p-value counts
    trials whose absolute score difference exceeds the observed one.
    """
    diffs = np.hstack([baseline - s for s in systems])
    totals = [s.sum(axis=0) for s in systems]
    bl_total = baseline.sum(axis=0)
    width = baseline.shape[1]
    # Columns where baseline and system agree on every segment (reference lengths, with one
    # reference) stay at the system's total in every trial: leave them out of the product.
    moving = np.flatnonzero(diffs.any(axis=0))
    diffs = diffs[:, moving]
    # Integer statistics whose sums stay below 2**24 add up exactly in float32, at twice the speed.
    exact32 = bool(np.all(diffs == np.round(diffs))) and float(np.abs(diffs).sum(axis=0).max(initial=0)) < 2**24
    dtype = np.float32 if exact32 else np.float64
    diffs = diffs.astype(dtype)
    trial_diffs: list[list[np.ndarray]] = [[] for _ in systems]
    for start in range(0, len(swap), _AR_BLOCK):
        rows = swap[start : start + _AR_BLOCK]
        block = np.zeros((len(rows), width * len(systems)))
        block[:, moving] = rows.astype(dtype) @ diffs
        for k, total in enumerate(totals):
            a = block[:, k * width : (k + 1) * width] + total
            b = (bl_total + total) - a
            trial_diffs[k].append(np.abs(scorer.scores(a) - scorer.scores(b)))
    return [p_value(np.concatenate(d), abs(baseline_score - s)) for d, s in zip(trial_diffs, scores, strict=True)]


@dataclass(frozen=True)
class PairedResult:
    """What the one-sided paired test says about ``effect`` (current minus baseline, signed so > 0 is better).

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


def paired_bootstrap(
    baseline: np.ndarray,
    current: np.ndarray,
    score: ScoreFn,
    *,
    higher_is_better: bool,
    n_resamples: int = 1000,
    seed: int = 12345,
) -> PairedResult:
    """One-sided paired bootstrap resampling (Koehn, 2004) with the shift method for the p-value.

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
    counts = bootstrap_counts(baseline.shape[0], n_resamples, seed)
    effects = sign * (score(counts @ current) - score(counts @ baseline))
    centred = effects - effects.mean()
    # A tolerance so that a run compared with itself (all effects exactly 0) gets p = 1.
    p = (1 + int(np.sum(centred <= observed + 1e-12))) / (n_resamples + 1)
    low, high = percentile_ci(effects)
    return PairedResult(observed, p, low, high, n_resamples, seed)
