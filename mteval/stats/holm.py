"""Holm-Bonferroni step-down adjustment of a family of p-values (Holm 1979), and what it can reach."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def holm(p_values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Holm-adjusted p-values, in input order.

    With the ``m`` p-values sorted ascending, the ``r``-th (1-based) is multiplied by ``m - r + 1``,
    each adjusted value is raised to the largest before it (so the order is kept) and capped at 1:
    ``adjusted < alpha`` exactly where Holm's step-down procedure at level ``alpha`` rejects. It
    controls the family-wise error rate under any dependence between the tests (Holm 1979), which
    the pairs of one metric have (every pair shares systems and resamples). Ties keep input order.
    """
    p = np.asarray(p_values, dtype=np.float64)
    m = len(p)
    if m == 0:
        return p.copy()
    order = np.argsort(p, kind="stable")
    stepped = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out = np.empty(m)
    out[order] = np.minimum(1.0, stepped)
    return out


def holm_matrix(p: np.ndarray) -> np.ndarray:
    """Holm over the ``k(k-1)/2`` pairs ``i < j`` of a symmetric ``(k, k)`` p-value matrix (one
    family), mirrored below the diagonal; the diagonal stays 1."""
    k = len(p)
    i, j = np.triu_indices(k, k=1)
    out = np.ones((k, k))
    out[i, j] = out[j, i] = holm(p[i, j])
    return out


def smallest_adjusted(n_resamples: int, family: int) -> float:
    """The smallest Holm-adjusted p-value a resampling test can give: its floor ``1 / (n + 1)``
    times the family size. At or above ``alpha`` no pair can come out significant (1000 bootstrap
    resamples over the 78 pairs of 13 systems give 0.078: more resamples are needed)."""
    return min(1.0, family / (n_resamples + 1))
