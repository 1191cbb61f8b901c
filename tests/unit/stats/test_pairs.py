"""Every pair of systems: p-values equal sacrebleu's with each system as the baseline, exact ties, segment wins."""
from __future__ import annotations

import numpy as np
import pytest
from sacrebleu.metrics import BLEU, CHRF
from sacrebleu.significance import PairedTest

from mteval.stats.paired import ar_p_values
from mteval.stats.pairs import head_to_head, pair_table, pairwise_ar_p
from mteval.stats.resampling import bootstrap_counts, bootstrap_scores, swap_mask
from mteval.stats.scorers import APPROX_TOLERANCE, BleuScorer, MeanScorer, scorer_for
from tests.unit.compare.test_stats import REFS, SYSTEMS

METRICS = [("BLEU", BLEU(tokenize="zh")), ("chrF2", CHRF())]


def _sacrebleu(order: list[str], test_type: str, n: int) -> dict[str, list]:
    metrics = {"BLEU": BLEU(tokenize="zh", references=[REFS]), "CHRF": CHRF(references=[REFS])}
    _, scores = PairedTest([(k, SYSTEMS[k]) for k in order], metrics, references=None, test_type=test_type,
                           n_samples=n)()
    return scores


@pytest.mark.parametrize(("key", "metric"), METRICS)
def test_every_pair_equals_sacrebleu_with_each_system_as_the_baseline(key, metric, monkeypatch):
    monkeypatch.setenv("SACREBLEU_SEED", "12345")
    names = list(SYSTEMS)
    stats = [np.asarray(metric._extract_corpus_statistics(SYSTEMS[n], [REFS]), dtype=np.float64) for n in names]
    scorer = scorer_for(metric)
    scores = np.array([scorer.score(s.sum(axis=0)) for s in stats])
    boot = bootstrap_scores(scorer, stats, bootstrap_counts(len(REFS), 300, 12345), sacrebleu=True)
    table = pair_table(scores, boot, pairwise_ar_p(scorer, stats, swap_mask(len(REFS), 500, 12345), scores),
                       np.zeros((3, 1)), n_ar=500)
    for b, base in enumerate(names):
        order = [base] + [n for n in names if n != base]
        bs, ar = _sacrebleu(order, "bs", 300)[key], _sacrebleu(order, "ar", 500)[key]
        for result_bs, result_ar, name in zip(bs[1:], ar[1:], order[1:], strict=True):
            j = names.index(name)
            assert (table.p_bs[b, j], table.p_ar[b, j]) == (result_bs.p_value, result_ar.p_value), (base, name)
    assert (table.p_bs == table.p_bs.T).all() and (table.p_ar == table.p_ar.T).all()
    assert 0.01 < table.p_ar[0, 1:].max() < 1  # something to decide


class _OffByAnUlp(MeanScorer):
    """Fast scores a hair above the exact ones, as numpy's log/exp may be."""

    def approx_scores(self, sums):
        return self.scores(sums) * (1 + APPROX_TOLERANCE / 10) + APPROX_TOLERANCE / 10


def test_trials_tied_with_the_observed_difference_are_decided_exactly():
    # Two segments: of the four swap patterns, two reproduce the observed difference exactly and must
    # not count as exceeding it; the off-by-a-hair fast scores alone would count them.
    stats = [np.array([[0.9, 1.0], [0.5, 1.0]]), np.array([[0.2, 1.0], [0.4, 1.0]])]
    swap = np.array([[True, True], [False, False], [True, False], [False, True]] * 25)
    scores = [0.7, 0.3]
    exact = ar_p_values(MeanScorer(), stats, swap, scores, [(0, 1)])
    assert ar_p_values(_OffByAnUlp(), stats, swap, scores, [(0, 1)]) == exact == [(0 + 1) / 101]


def test_fast_bleu_is_within_tolerance_of_the_exact_one():
    rng = np.random.default_rng(0)
    n = 2000
    correct = rng.integers(0, 60, size=(n, 4)) * (rng.random((n, 4)) > 0.05)
    total = correct + rng.integers(0, 40, size=(n, 4))
    sys_len = total[:, 0] + rng.integers(-5, 5, n).clip(0)
    rows = np.column_stack([sys_len, sys_len + rng.integers(-20, 20, n), correct, total]).astype(float)
    rows[:5, 2:6] = 0  # no match at all
    for scorer in (BleuScorer(), BleuScorer(smooth_method="floor"), BleuScorer(effective_order=True)):
        exact, fast = scorer.scores(rows), scorer.approx_scores(rows)
        assert np.abs(fast - exact).max() <= APPROX_TOLERANCE * 100
        assert (exact[:5] == 0).all() and (fast[:5] == 0).all()


def test_head_to_head_counts_wins_and_ties_on_segments_both_scored():
    good = np.array([[1.0, 2.0, 3.0, np.nan], [1.0, 1.0, 4.0, 0.0], [0.0, 5.0, 5.0, 1.0]])
    wins, ties = head_to_head(good)
    assert wins.tolist() == [[0, 1, 1], [1, 0, 1], [2, 3, 0]]  # C beats B on 3 of their 4 segments
    assert ties.tolist() == [[3, 1, 0], [1, 4, 0], [0, 0, 4]]
    assert (wins + ties + wins.T).tolist() == [[3, 3, 3], [3, 4, 4], [3, 4, 4]]


def test_pair_table_clusters_on_randomisation_when_it_ran_else_bootstrap():
    scores = np.array([3.0, 2.0, 1.0])
    boot = scores[:, None] + np.random.default_rng(1).normal(0, 0.3, (3, 200))
    good = np.random.default_rng(2).normal(0, 1, (3, 50))
    ar = np.array([[1, 0.01, 0.001], [0.01, 1, 0.2], [0.001, 0.2, 1]])
    with_ar = pair_table(scores, boot, ar, good, n_ar=1000)
    assert with_ar.cluster_test == "ar" and (with_ar.cluster_p == with_ar.p_ar_holm).all()
    np.testing.assert_allclose(with_ar.p_ar_holm[0], [1, 0.02, 0.003])
    assert (with_ar.diff == -with_ar.diff.T).all() and with_ar.diff[0, 2] == 2.0 and with_ar.family == 3
    without = pair_table(scores, boot, None, good, n_ar=0)
    assert without.cluster_test == "bs" and (without.cluster_p == without.p_bs_holm).all()
    rec = with_ar.record()
    assert rec["clusters_from"] == "p_ar_holm" and rec["losses"] == with_ar.wins.T.tolist()
    assert without.record()["p_ar"] is None
