"""Paired significance tests over summed sufficient statistics: bootstrap (two- and one-sided) and approximate randomisation.

The two-sided tests are sacrebleu's (``sacrebleu/significance.py``, after Koehn 2004 and
Riezler & Maxwell 2005), with the same random draws (:mod:`mteval.stats.resampling`), so their
p-values equal ``sacrebleu --paired-bs`` / ``--paired-ar``. Randomisation sums come from one matrix product
per system (``swap @ stats``) for all trials and every pair. The one-sided
bootstrap is the gate's, which asks only whether the current run got worse.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mteval.stats.intervals import percentile_ci
from mteval.stats.resampling import bootstrap_counts
from mteval.stats.scorers import APPROX_TOLERANCE, Scorer

# Trials x pairs per block in approximate randomisation: bounds the pseudo-systems to ~100 MB.
_AR_BLOCK = 40000

#: Turns summed sufficient statistics, one row per resample, into one corpus score per row.
ScoreFn = Callable[[np.ndarray], np.ndarray]


def p_value(null_stats: np.ndarray, observed: float) -> float:
    """``(#{null > observed} + 1) / (n + 1)``, as sacrebleu (after multeval), except that two
    systems with exactly the same score get p = 1.

    sacrebleu returns ``1 / (n + 1)`` there: no resample exceeds a zero difference, so a system
    compared with an identical copy of itself comes out "significantly different", and two runs
    of one system would land in different rank clusters.
    """
    return p_from_count(int(np.sum(null_stats > observed)), len(null_stats), observed)


def p_from_count(exceeding: int, n: int, observed: float) -> float:
    """:func:`p_value` from the count of null statistics above ``observed`` among ``n``."""
    if observed == 0:
        return 1.0
    return (exceeding + 1) / (n + 1)


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


def _exceeding(scorer: Scorer, a: np.ndarray, b: np.ndarray, observed: np.ndarray, scale: float) -> np.ndarray:
    """Per pair (column), how many trials' ``|score(a) - score(b)|`` exceed its ``observed``, exactly
    as :meth:`Scorer.scores` would count them: the fast scores decide every trial further than their
    tolerance from the threshold, and only the rest (ties with ``observed``, in practice) are scored
    exactly. ``a`` and ``b`` are ``(trials, pairs, n_stats)``."""
    rows, n_pairs, width = a.shape
    flat_a, flat_b = a.reshape(-1, width), b.reshape(-1, width)
    approx = np.abs(scorer.approx_scores(flat_a) - scorer.approx_scores(flat_b)).reshape(rows, n_pairs)
    near = np.abs(approx - observed) <= 4 * APPROX_TOLERANCE * scale
    above = (approx > observed) & ~near
    if near.any():
        t, q = np.nonzero(near)
        exact = np.abs(scorer.scores(a[t, q]) - scorer.scores(b[t, q]))
        above[t, q] = exact > observed[q]
    return above.sum(axis=0)


def ar_p_values(scorer: Scorer, stats: list[np.ndarray], swap: np.ndarray, scores: list[float] | np.ndarray,
                pairs: list[tuple[int, int]]) -> list[float]:
    """Paired approximate-randomisation p-values of the systems ``(i, j)`` in ``pairs`` (as sacrebleu
    with ``i`` as the baseline; the test is symmetric, so ``(j, i)`` gives the same p).

    In trial ``t``, segment ``s`` of pseudo-system A takes ``i``'s statistics where ``swap[t, s]``
    and ``j``'s otherwise; pseudo-system B takes the rest. With ``P_x = swap @ stats_x`` (one matrix
    product per system, not per pair) and totals ``T``, A is ``P_i - P_j + T_j`` and B is
    ``T_i + T_j - A``. Integer statistics whose sums stay below 2**24 add up exactly in float32 (at
    twice the speed), so A and B equal sacrebleu's integer sums to the bit.
    """
    if not pairs:
        return []
    first, second = (np.array(x) for x in zip(*pairs, strict=True))
    totals = np.array([s.sum(axis=0) for s in stats])
    # Columns every system shares on every segment (reference lengths, with one reference) stay at
    # the totals in every trial: leave them out of the product.
    moving = np.flatnonzero(np.any([(s != stats[0]).any(axis=0) for s in stats], axis=0))
    wide = np.hstack([s[:, moving] for s in stats])
    exact32 = bool(np.all(wide == np.round(wide))) and float(np.abs(wide).sum(axis=0).max(initial=0)) < 2**24
    wide = wide.astype(np.float32 if exact32 else np.float64)
    observed = np.abs(np.asarray(scores, dtype=np.float64)[first] - np.asarray(scores, dtype=np.float64)[second])
    scale = max(1.0, float(np.max(np.abs(scores))))
    counts = np.zeros(len(pairs), dtype=np.int64)
    block = max(1, _AR_BLOCK // len(pairs))  # trials per block: bounds the pseudo-systems' memory
    for start in range(0, len(swap), block):
        rows = swap[start : start + block]
        prod = (rows.astype(wide.dtype) @ wide).astype(np.float64).reshape(len(rows), len(stats), len(moving))
        a = np.broadcast_to(totals[second], (len(rows), *totals[second].shape)).copy()
        a[:, :, moving] += prod[:, first] - prod[:, second]
        b = (totals[first] + totals[second]) - a
        counts += _exceeding(scorer, a, b, observed, scale)
    return [p_from_count(int(c), len(swap), float(o)) for c, o in zip(counts, observed, strict=True)]


def paired_ar_p(scorer: Scorer, baseline: np.ndarray, systems: list[np.ndarray], swap: np.ndarray,
                baseline_score: float, scores: list[float]) -> list[float]:
    """Paired approximate-randomisation p-values of each system against the baseline
    (``sacrebleu --paired-ar``); :func:`ar_p_values` with the baseline as every pair's first."""
    return ar_p_values(scorer, [baseline, *systems], swap, [baseline_score, *scores],
                       [(0, k) for k in range(1, len(systems) + 1)])


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
