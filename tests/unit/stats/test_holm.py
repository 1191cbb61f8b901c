"""Holm's step-down correction: hand-worked values, R's p.adjust values, and the procedure it stands for."""
from __future__ import annotations

import numpy as np
import pytest

from mteval.stats.holm import holm, holm_matrix, smallest_adjusted


@pytest.mark.parametrize(("p", "expected"), [
    # By hand: sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04 -> running max
    # 0.02, 0.03, 0.06, 0.06; back in input order.
    ([0.01, 0.04, 0.03, 0.005], [0.03, 0.06, 0.06, 0.02]),
    # R: p.adjust(c(0.01, 0.02, 0.03, 0.04, 0.05), "holm")
    ([0.01, 0.02, 0.03, 0.04, 0.05], [0.05, 0.08, 0.09, 0.09, 0.09]),
    # Ties: sorted 0.3, 0.3, 0.6 times 3, 2, 1 = 0.9, 0.6, 0.6 -> running max 0.9 throughout.
    ([0.3, 0.6, 0.3], [0.9, 0.9, 0.9]),
    ([0.5, 0.7], [1.0, 1.0]),  # 0.5 * 2 = 1, capped at 1
    ([0.2], [0.2]),
    ([], []),
])
def test_holm_known_values(p, expected):
    np.testing.assert_allclose(holm(p), expected, rtol=1e-12)


def _step_down(p: np.ndarray, alpha: float) -> np.ndarray:
    """Holm (1979) as stated: reject the smallest p-values while p_(r) <= alpha / (m - r + 1)."""
    reject = np.zeros(len(p), dtype=bool)
    for r, i in enumerate(np.argsort(p, kind="stable")):
        if p[i] > alpha / (len(p) - r):
            break
        reject[i] = True
    return reject


@pytest.mark.parametrize("alpha", [0.01, 0.05, 0.1])
def test_adjusted_below_alpha_is_the_step_down_procedure(alpha):
    rng = np.random.default_rng(7)
    for _ in range(200):
        p = np.concatenate([rng.uniform(0, 0.02, rng.integers(0, 8)), rng.uniform(0, 1, rng.integers(1, 20))])
        p = np.round(p, 4)  # resampling p-values come on a grid, with ties
        assert ((holm(p) <= alpha) == _step_down(p, alpha)).all(), p
        assert (holm(p) >= p).all()


def test_holm_matrix_is_one_family_over_the_upper_triangle():
    p = np.array([[1, 0.01, 0.04], [0.01, 1, 0.03], [0.04, 0.03, 1]])
    adj = holm_matrix(p)
    np.testing.assert_allclose(adj, [[1, 0.03, 0.06], [0.03, 1, 0.06], [0.06, 0.06, 1]])


def test_smallest_adjusted_says_when_holm_has_no_room():
    # 13 systems, 78 pairs: 1000 resamples cannot reach 0.05 after Holm, 10000 can.
    assert smallest_adjusted(1000, 78) == pytest.approx(0.0779, abs=1e-4) and smallest_adjusted(1000, 78) > 0.05
    assert smallest_adjusted(10000, 78) < 0.05 and smallest_adjusted(1559, 78) >= 0.05 > smallest_adjusted(1560, 78)
    assert holm(np.full(78, 1 / 1001)).min() == smallest_adjusted(1000, 78)
