"""The vectorised scorers give sacrebleu's scores bit for bit, from float32 resample sums and integer sums."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sacrebleu.metrics import BLEU, CHRF, TER

from mteval.stats.scorers import FLOAT32, BleuScorer, ChrfScorer, MeanScorer, TerScorer, scorer_for

METRICS = {
    "bleu": BLEU(tokenize="zh"),
    "bleu-floor": BLEU(smooth_method="floor"),
    "bleu-addk-eff": BLEU(smooth_method="add-k", effective_order=True),
    "bleu-none": BLEU(smooth_method="none"),
    "chrf": CHRF(),
    "chrf++": CHRF(word_order=2),
    "chrf-eps": CHRF(eps_smoothing=True),
    "ter": TER(),
}
WIDTH = {"bleu": 10, "chrf": 18, "chrf++": 24, "ter": 2}


def _width(name: str) -> int:
    return WIDTH["chrf++" if name == "chrf++" else name.split("-")[0]]


def _plausible(name: str, rows: np.ndarray) -> np.ndarray:
    """Turn random counts into statistics a metric could produce (matches never exceed totals)."""
    rows = rows.copy()
    if name.startswith("bleu"):
        totals = rows[:, 6:10]
        rows[:, 2:6] = np.minimum(rows[:, 2:6], totals)
    elif name.startswith("chrf"):
        for k in range(rows.shape[1] // 3):
            rows[:, 3 * k + 2] = np.minimum(rows[:, 3 * k + 2], np.minimum(rows[:, 3 * k], rows[:, 3 * k + 1]))
    return rows


def _sums(width: int):
    # Zeros are frequent on purpose: they take every smoothing and early-exit branch.
    counts = st.one_of(st.just(0), st.integers(0, 5), st.integers(0, 200_000))
    return arrays(np.int64, st.tuples(st.integers(1, 12), st.just(width)), elements=counts)


@pytest.mark.parametrize("name", list(METRICS))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_scores_equal_sacrebleu_bit_for_bit(name, data):
    metric = METRICS[name]
    rows = _plausible(name, data.draw(_sums(_width(name))))
    scorer = scorer_for(metric)
    # Bootstrap: sacrebleu scores float32 sums; corpus scores and AR trials: integer sums.
    ours32 = scorer.scores(rows.astype(np.float64), ratio_dtype=FLOAT32)
    theirs32 = [metric._compute_score_from_stats(r).score for r in rows.astype(np.float32)]
    ours64 = scorer.scores(rows.astype(np.float64))
    theirs64 = [metric._compute_score_from_stats(r).score for r in rows]
    assert ours32.tolist() == theirs32
    assert ours64.tolist() == theirs64


def test_scorer_for_reads_the_metric_settings():
    bleu = scorer_for(BLEU(smooth_method="floor", smooth_value=0.2, max_ngram_order=3))
    assert isinstance(bleu, BleuScorer) and (bleu.smooth_value, bleu.max_ngram_order) == (0.2, 3)
    chrf = scorer_for(CHRF(word_order=2, beta=3))
    assert isinstance(chrf, ChrfScorer) and (chrf.order, chrf.beta) == (8, 3)
    assert isinstance(scorer_for(TER()), TerScorer)
    with pytest.raises(TypeError):
        scorer_for(object())


def test_known_values():
    # BLEU: all 4-gram precisions 50%, no brevity penalty -> 50; chrF: P = R = 50% at every order.
    assert BleuScorer().score(np.array([10, 10, 5, 4, 3, 2, 10, 8, 6, 4])) == pytest.approx(50.0)
    assert ChrfScorer(order=1).score(np.array([10, 10, 5])) == pytest.approx(50.0)
    assert TerScorer().score(np.array([3, 12])) == pytest.approx(25.0)
    assert TerScorer().score(np.array([3, 0])) == 100.0 and TerScorer().score(np.array([0, 0])) == 0.0
    assert MeanScorer().scores(np.array([[1.5, 3.0], [0.2, 1.0]])).tolist() == [0.5, 0.2]
