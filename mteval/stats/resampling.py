"""Resampling draws, made exactly as sacrebleu makes them, and resampled corpus scores for every system at once.

One ``default_rng(seed)`` draws the bootstrap index matrix shared by every system (and every
metric on the same segments), another the approximate-randomisation swap mask, as
``sacrebleu/significance.py`` does. What sacrebleu does with one Python call per resample, this
does with one matrix product: bootstrap sums are ``counts @ stats`` where ``counts[r, j]`` is how
often resample ``r`` drew segment ``j``.
"""
from __future__ import annotations

import numpy as np

from mteval.stats.scorers import FLOAT32, FLOAT64, Scorer


def bootstrap_indices(n_segments: int, n_samples: int, seed: int | None) -> np.ndarray:
    """The ``(n_samples, n_segments)`` resample index matrix, drawn exactly as sacrebleu draws it."""
    rng = np.random.default_rng(seed)
    return rng.choice(n_segments, size=(n_samples, n_segments), replace=True)


def index_counts(idxs: np.ndarray, n_segments: int) -> np.ndarray:
    """How often each resample (row) drew each segment (column), as float64."""
    n_samples = len(idxs)
    flat = (idxs + (np.arange(n_samples) * n_segments)[:, None]).ravel()
    return np.bincount(flat, minlength=n_samples * n_segments).reshape(n_samples, n_segments).astype(np.float64)


def bootstrap_counts(n_segments: int, n_samples: int, seed: int | None) -> np.ndarray:
    """:func:`index_counts` of :func:`bootstrap_indices`: the ``(n_samples, n_segments)`` draw counts.

    Drawing the same counts for every system is what makes a bootstrap paired.
    """
    return index_counts(bootstrap_indices(n_segments, n_samples, seed), n_segments)


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
    sums = counts @ np.hstack(stats)
    return _split_scores(scorer, sums, [s.shape[1] for s in stats], sacrebleu=sacrebleu)


def _split_scores(scorer: Scorer, sums: np.ndarray, widths: list[int], *, sacrebleu: bool) -> np.ndarray:
    """Each system's resampled scores from the summed statistics of all systems side by side (one metric's, so
    every system has the same width)."""
    dtype = FLOAT32 if sacrebleu else FLOAT64
    n_samples, n_systems, width = len(sums), len(widths), widths[0]
    # One scorer call for every system: rows are scored independently, and a call costs per operation.
    rows = sums.reshape(n_samples, n_systems, width).transpose(1, 0, 2).reshape(n_systems * n_samples, width)
    return scorer.scores(rows, ratio_dtype=dtype).reshape(n_systems, n_samples)


def mean_stats(scores: list[float] | np.ndarray) -> np.ndarray:
    """Sufficient statistics of a mean (COMET, an LLM judge): one ``[score, 1]`` row per segment."""
    return np.column_stack([np.asarray(scores, dtype=np.float64), np.ones(len(scores))])


def streamed_bootstrap_scores(scorer: Scorer, stats: list[np.ndarray], n_samples: int, seed: int | None, *,
                              sacrebleu: bool, memory: int = 1 << 23, segment_block: int = 1 << 16) -> np.ndarray:
    """:func:`bootstrap_scores` of :func:`bootstrap_counts` without either ``(n_samples, n_segments)`` matrix
    (8 GB each for 1,000 resamples of a million segments, issue 21).

    Resamples are drawn a block of rows at a time from the one generator, which gives the very draws
    :func:`bootstrap_indices` makes in one call, and their sums are accumulated over blocks of
    segments. For integer statistics (BLEU, chrF) every sum is exact in float64, so the scores equal
    :func:`bootstrap_scores`' bit for bit.

    Args:
        stats: per system, its ``(n_segments, n_stats)`` statistics (int32 is fine).
        memory: about how many draws a block of resamples holds (three arrays of 8 bytes each).
    """
    n = len(stats[0])
    widths = [s.shape[1] for s in stats]
    rows = max(1, min(n_samples, memory // max(n, 1)))
    rng = np.random.default_rng(seed)
    sums = np.empty((n_samples, sum(widths)))
    for start in range(0, n_samples, rows):
        k = min(rows, n_samples - start)
        counts = index_counts(rng.choice(n, size=(k, n), replace=True), n)
        block = np.zeros((k, sum(widths)))
        for lo in range(0, n, segment_block):
            part = np.hstack([s[lo : lo + segment_block] for s in stats]).astype(np.float64)
            block += counts[:, lo : lo + segment_block] @ part
        sums[start : start + k] = block
    return _split_scores(scorer, sums, widths, sacrebleu=sacrebleu)
