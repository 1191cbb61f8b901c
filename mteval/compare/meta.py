"""Meta-evaluation: how far metric scores agree with human scores (correlations, pairwise accuracy), and the results.

Every function takes scores already signed so that higher is better (a lower-is-better metric such
as TER or MetricX is negated first), so +1 always means full agreement with the humans. The
system-level statistics work on a batch of resamples at once: ``metric`` and ``human`` are
``(n_resamples, n_systems)`` arrays (a 1-d array is one resample).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mteval.compare.human import AlignedHuman


def _rows(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return x[None, :] if x.ndim == 1 else x


def _unbatch(out: np.ndarray, like: np.ndarray) -> np.ndarray | float:
    return float(out[0]) if np.ndim(like) == 1 else out


def pearson(metric: np.ndarray, human: np.ndarray) -> np.ndarray | float:
    """Pearson's r per resample; NaN where either side is constant."""
    x, y = _rows(metric), _rows(human)
    xc = x - x.mean(axis=1, keepdims=True)
    yc = y - y.mean(axis=1, keepdims=True)
    den = np.sqrt((xc * xc).sum(axis=1) * (yc * yc).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(den > 0, (xc * yc).sum(axis=1) / np.where(den > 0, den, 1.0), np.nan)
    return _unbatch(np.clip(r, -1.0, 1.0), metric)


def _pair_signs(x: np.ndarray) -> np.ndarray:
    """``sign(x[i] - x[j])`` for every pair i < j of systems, per resample: ``(n_resamples, n_pairs)``."""
    i, j = np.triu_indices(x.shape[1], k=1)
    return np.sign(x[:, i] - x[:, j])


def kendall_tau(metric: np.ndarray, human: np.ndarray) -> np.ndarray | float:
    """Kendall's tau-b per resample (ties in either ranking handled as ``scipy.stats.kendalltau``
    does by default); NaN where either side has all systems tied."""
    a, b = _pair_signs(_rows(metric)), _pair_signs(_rows(human))
    concordant_minus_discordant = (a * b).sum(axis=1)
    den = np.sqrt(np.abs(a).sum(axis=1) * np.abs(b).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        tau = np.where(den > 0, concordant_minus_discordant / np.where(den > 0, den, 1.0), np.nan)
    return _unbatch(tau, metric)


def pairwise_accuracy(metric: np.ndarray, human: np.ndarray) -> np.ndarray | float:
    """The share of system pairs the metric orders as the humans do (Kocmi et al., 2021, "To ship or
    not to ship"): a pair counts when both order it the same way, or both tie it."""
    a, b = _pair_signs(_rows(metric)), _pair_signs(_rows(human))
    return _unbatch((a == b).mean(axis=1), metric)


SYSTEM_STATS = {"pearson": pearson, "kendall": kendall_tau, "pairwise_accuracy": pairwise_accuracy}


def segment_kendall(metric: np.ndarray, human: np.ndarray) -> float:
    """Segment-level Kendall tau-b over every (system, segment) cell both score, flattened ("no
    grouping", as the WMT22 metrics task's segment-level tau); NaN cells are left out.

    Args:
        metric, human: ``(n_systems, n_segments)`` score matrices, NaN where unscored.
    """
    from scipy.stats import kendalltau

    x, y = np.asarray(metric, dtype=np.float64).ravel(), np.asarray(human, dtype=np.float64).ravel()
    keep = ~np.isnan(x) & ~np.isnan(y)
    if keep.sum() < 2:
        return float("nan")
    return float(kendalltau(x[keep], y[keep]).statistic)


# The statistics, in table order, with their labels.
STAT_LABELS = {"pearson": "Pearson r", "kendall": "Kendall tau", "pairwise_accuracy": "pairwise acc",
               "segment_kendall": "segment tau"}


@dataclass
class Estimate:
    """A statistic and its 95% percentile bootstrap interval (NaN where undefined)."""

    value: float
    lower: float
    upper: float


@dataclass
class MetricAgreement:
    """One metric against the human scores.

    Attributes:
        scores: the metric's score for each matched system (as printed, not sign-flipped).
        stats: ``pearson``, ``kendall``, ``pairwise_accuracy`` and, with segment scores, ``segment_kendall``.
        n_cells: (system, segment) cells scored by both, for the segment-level tau.
    """

    name: str
    higher_is_better: bool
    scores: np.ndarray
    stats: dict[str, Estimate]
    n_cells: int = 0


@dataclass
class Agreement:
    """Every metric's agreement with the human scores, and what was matched."""

    human: AlignedHuman
    metrics: list[MetricAgreement]
    n_bootstrap: int
