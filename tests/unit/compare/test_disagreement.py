"""Where the metrics disagree: rank correlations between metrics, places, and which systems are flagged."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import kendalltau, spearmanr

from mteval.compare.disagreement import average_ranks, disagreement, places


def test_correlations_places_and_flags_by_hand():
    # b swaps the last three systems round: 3 of the 10 pairs discordant -> tau (7 - 3) / 10 = 0.4;
    # rank differences 0, 0, 2, 0, -2 -> rho = 1 - 6 * 8 / (5 * 24) = 0.6.
    good = np.array([[5, 4, 3, 2, 1], [5, 4, 1, 2, 3], [1, 2, 3, 4, 5]], dtype=float)
    d = disagreement(["a", "b", "c"], good)
    assert d.kendall[0, 1] == pytest.approx(0.4) and d.spearman[0, 1] == pytest.approx(0.6)
    assert d.kendall[0, 2] == pytest.approx(-1) and d.spearman[0, 2] == pytest.approx(-1)
    assert d.places.tolist() == [[1, 2, 3, 4, 5], [1, 2, 5, 4, 3], [5, 4, 3, 2, 1]]
    assert d.spread.tolist() == [4, 2, 2, 2, 4] and d.flagged == [0, 4, 1, 2, 3]
    assert disagreement(["a", "b"], good[:2]).flagged == [2, 4]
    assert disagreement(["a", "b"], good[:2], min_shift=3).flagged == []
    assert d.places_of(2) == [("a", 3), ("c", 3), ("b", 5)]


def test_ties_follow_scipy():
    rng = np.random.default_rng(4)
    for _ in range(20):
        good = rng.integers(0, 5, size=(2, 9)).astype(float)
        d = disagreement(["x", "y"], good)
        tau, rho = kendalltau(good[0], good[1]).statistic, spearmanr(good[0], good[1]).statistic
        if np.isnan(tau):
            assert np.isnan(d.kendall[0, 1])
            continue
        assert d.kendall[0, 1] == pytest.approx(tau) and d.spearman[0, 1] == pytest.approx(rho)


def test_tied_systems_share_the_best_place():
    good = np.array([[3.0, 5.0, 3.0, 1.0]])
    assert places(good).tolist() == [[2, 1, 2, 4]]
    assert average_ranks(good).tolist() == [[2.5, 1.0, 2.5, 4.0]]


def test_one_metric_has_nothing_to_disagree_with_and_the_record_is_plain_json():
    assert disagreement(["bleu"], np.array([[1.0, 2.0]])) is None
    rec = disagreement(["bleu", "ter"], np.array([[1.0, 2.0, 3.0], [-3.0, -1.0, -2.0]])).record(["A", "B", "C"])
    assert rec["correlations"][0]["metrics"] == ["bleu", "ter"]
    assert rec["places"]["B"] == {"bleu": 2, "ter": 1} and rec["flagged"] == []
