"""Bootstrap intervals: sacrebleu's summary of resampled scores, and the percentile interval of any statistic."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mteval.stats.resampling import bootstrap_indices


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


def percentile_ci(samples: np.ndarray | Sequence[float], level: float = 0.95) -> tuple[float, float]:
    """The percentile bootstrap interval (Efron & Tibshirani 1993, ch. 13) at ``level``; resamples where
    the statistic is undefined (NaN) are left out, and no resample at all gives (NaN, NaN)."""
    values = np.asarray(samples, dtype=np.float64)
    values = values[~np.isnan(values)]
    if not len(values):
        return float("nan"), float("nan")
    # Rounded so that level=0.95 asks for exactly the 2.5th and 97.5th percentiles (1 - 0.95 is not 0.05 in binary).
    tail = round(50.0 * (1.0 - level), 12)
    lo, hi = np.percentile(values, [tail, 100.0 - tail])
    return float(lo), float(hi)


def mean_ci(values: Sequence[float], *, seed: int, n_boot: int = 1000, level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``values`` (resampled with sacrebleu's draws)."""
    data = np.asarray(values, dtype=np.float64)
    means = data[bootstrap_indices(len(data), n_boot, seed)].mean(axis=1)
    return percentile_ci(means, level)
