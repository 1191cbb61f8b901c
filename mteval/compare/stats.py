"""Paired bootstrap resampling and approximate randomisation over summed statistics, for any metric.

The algorithms are sacrebleu's (``sacrebleu/significance.py``, after Koehn 2004 and Riezler &
Maxwell 2005), with the same random draws: one ``default_rng(seed)`` draws the bootstrap index
matrix shared by every system, another the approximate-randomisation swap mask. What sacrebleu
does with one Python call per resample, this does with two matrix products for all systems at once:
bootstrap sums are ``counts @ stats`` where ``counts[r, j]`` is how often resample ``r`` drew
segment ``j``; randomisation sums are ``swap @ (baseline - system) + system``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mteval.compare.scorers import FLOAT32, FLOAT64, Scorer

# Trials per block in approximate randomisation: bounds the float64 swap matrix to ~16 MB.
_AR_BLOCK = 1000


def bootstrap_indices(n_segments: int, n_samples: int, seed: int | None) -> np.ndarray:
    """The ``(n_samples, n_segments)`` resample index matrix, drawn exactly as sacrebleu draws it."""
    rng = np.random.default_rng(seed)
    return rng.choice(n_segments, size=(n_samples, n_segments), replace=True)


def index_counts(idxs: np.ndarray, n_segments: int) -> np.ndarray:
    """How often each resample (row) drew each segment (column), as float64."""
    n_samples = len(idxs)
    flat = (idxs + (np.arange(n_samples) * n_segments)[:, None]).ravel()
    return np.bincount(flat, minlength=n_samples * n_segments).reshape(n_samples, n_segments).astype(np.float64)


def swap_mask(n_segments: int, n_trials: int, seed: int | None) -> np.ndarray:
    """The ``(n_trials, n_segments)`` boolean mask of approximate randomisation, as sacrebleu draws it:
    True keeps the segment's baseline statistics in pseudo-system A."""
    rng = np.random.default_rng(seed)
    return rng.integers(2, size=(n_trials, n_segments), dtype=bool)


def bootstrap_scores(scorer: Scorer, stats: list[np.ndarray], counts: np.ndarray, *, sacrebleu: bool) -> np.ndarray:
    """Resampled corpus scores, ``(n_systems, n_samples)``.

    Args:
        sacrebleu: divide statistics in float32, as sacrebleu's bootstrap does on its float32 sums.
    """
    widths = [s.shape[1] for s in stats]
    sums = counts @ np.hstack(stats)
    dtype = FLOAT32 if sacrebleu else FLOAT64
    out, col = [], 0
    for w in widths:
        out.append(scorer.scores(sums[:, col : col + w], ratio_dtype=dtype))
        col += w
    return np.vstack(out)


@dataclass(frozen=True)
class Interval:
    """sacrebleu's bootstrap summary: mean of the resamples, half-width, and the 95% bounds."""

    mean: float
    half_width: float
    lower: float
    upper: float


def estimate_ci(samples: np.ndarray) -> Interval:
    """Mean and 95% interval of resampled scores, as ``sacrebleu.significance.estimate_ci``
    (the mean is taken over the sorted samples, so it matches to the last bit)."""
    ordered = np.sort(samples)
    n = len(ordered)
    lo = n // 40
    lower, upper = float(ordered[lo]), float(ordered[n - lo - 1])
    return Interval(float(ordered.mean()), 0.5 * (upper - lower), lower, upper)


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


def rank_clusters(scores: np.ndarray, pairwise_p: np.ndarray, *, higher_is_better: bool,
                  alpha: float = 0.05) -> np.ndarray:
    """Rank clusters: going down the systems from best to worst, each system that is not
    significantly different (p >= alpha) from the head of the current cluster shares the head's
    rank; the first one that is becomes the head of the next cluster, ranked by its position.

    Returns the 1-based rank of each system, in input order (e.g. 1, 1, 3, 4, 4).
    """
    order = np.argsort(-scores if higher_is_better else scores, kind="stable")
    ranks = np.zeros(len(scores), dtype=int)
    head = None
    for position, i in enumerate(order, start=1):
        if head is None or pairwise_p[head, i] < alpha:
            head = i
            ranks[i] = position
        else:
            ranks[i] = ranks[head]
    return ranks
