"""The resampling engine: same draws, intervals and p-values as sacrebleu's significance module."""
from __future__ import annotations

import numpy as np
import pytest
from sacrebleu.metrics import BLEU, CHRF
from sacrebleu.significance import PairedTest, estimate_ci as sacre_estimate_ci

from mteval.stats.scorers import MeanScorer, scorer_for
from mteval.stats.clusters import rank_clusters
from mteval.stats.intervals import estimate_ci
from mteval.stats.paired import p_value, paired_ar_p, paired_bootstrap_p
from mteval.stats.resampling import bootstrap_indices, bootstrap_scores, index_counts, swap_mask

REFS = ["猫坐在垫子上。", "今天天气很好。", "我们提出了一个新的数据集。", "他明天去北京开会。", "这本书很有意思。",
        "请把门关上。", "机器翻译的质量提高了。", "会议推迟到下周。", "她喜欢喝绿茶。", "数据集包含两千个句子。"] * 4
SYSTEMS = {
    "base": ["猫坐在垫子上。", "今天天气不错。", "我们提出一个新数据集。", "他明天要去北京开会。", "这本书很有趣。",
             "请关门。", "机器翻译质量提高了。", "会议推迟到了下周。", "她爱喝绿茶。", "数据集有两千个句子。"] * 4,
    "a": ["猫在垫子上坐着。", "今天天气很好。", "我们提出了新的数据集。", "他明天去北京。", "这书很有意思。",
          "请把门关上。", "机器翻译的质量变好了。", "会议延期到下周。", "她喜欢绿茶。", "数据集包含两千句。"] * 4,
    "b": ["一只猫坐在垫子上。", "天气今天很好。", "我们给出了一个数据集。", "他明天会去北京开会。", "这本书有意思。",
          "把门关上。", "翻译质量提高了。", "会议推迟了。", "她喜欢喝茶。", "这个数据集包含两千个句子。"] * 4,
}


def _sacrebleu(test_type: str, n: int):
    metrics = {"BLEU": BLEU(tokenize="zh", references=[REFS]), "CHRF": CHRF(references=[REFS])}
    _, scores = PairedTest(list(SYSTEMS.items()), metrics, references=None, test_type=test_type, n_samples=n)()
    return scores


def _stats(metric):
    return [np.asarray(metric._extract_corpus_statistics(h, [REFS]), dtype=np.float64) for h in SYSTEMS.values()]


@pytest.fixture(autouse=True)
def _sacrebleu_seed(monkeypatch):
    monkeypatch.setenv("SACREBLEU_SEED", "12345")


@pytest.mark.parametrize(("key", "metric"), [("BLEU", BLEU(tokenize="zh")), ("chrF2", CHRF())])
def test_paired_bootstrap_equals_sacrebleu(key, metric):
    theirs = _sacrebleu("bs", 300)[key]
    stats = _stats(metric)
    scorer = scorer_for(metric)
    scores = [scorer.score(s.sum(axis=0)) for s in stats]
    boot = bootstrap_scores(scorer, stats, index_counts(bootstrap_indices(len(REFS), 300, 12345), len(REFS)),
                            sacrebleu=True)
    for i, result in enumerate(theirs):
        iv = estimate_ci(boot[i])
        assert (scores[i], iv.mean, iv.half_width) == (result.score, result.mean, result.ci)
        if i:
            assert paired_bootstrap_p(boot[0], boot[i], scores[0], scores[i]) == result.p_value


@pytest.mark.parametrize(("key", "metric"), [("BLEU", BLEU(tokenize="zh")), ("chrF2", CHRF())])
def test_paired_approximate_randomisation_equals_sacrebleu(key, metric):
    theirs = _sacrebleu("ar", 500)[key]
    stats = _stats(metric)
    scorer = scorer_for(metric)
    scores = [scorer.score(s.sum(axis=0)) for s in stats]
    ours = paired_ar_p(scorer, stats[0], stats[1:], swap_mask(len(REFS), 500, 12345), scores[0], scores[1:])
    assert ours == [r.p_value for r in theirs[1:]]
    assert 0.01 < max(ours) < 1  # a case where the test has something to decide


def test_index_counts_count_each_draw():
    idxs = bootstrap_indices(7, 50, seed=1)
    counts = index_counts(idxs, 7)
    assert counts.shape == (50, 7) and (counts.sum(axis=1) == 7).all()
    assert all((np.bincount(row, minlength=7) == c).all() for row, c in zip(idxs, counts, strict=True))
    assert (bootstrap_indices(7, 50, seed=1) == idxs).all() and not (bootstrap_indices(7, 50, seed=2) == idxs).all()


def test_estimate_ci_matches_sacrebleu():
    samples = np.random.default_rng(0).normal(50, 3, size=1000)
    iv = estimate_ci(samples)
    assert (iv.mean, iv.half_width) == sacre_estimate_ci(samples)
    ordered = np.sort(samples)
    assert (iv.lower, iv.upper) == (ordered[25], ordered[974])


def test_p_value_counts_strictly_greater_plus_one():
    assert p_value(np.array([0.0, 1.0, 2.0, 3.0]), 1.0) == 3 / 5
    assert p_value(np.zeros(999), 1e-9) == 1 / 1000
    # Equal scores are no evidence of a difference (sacrebleu would say 1 / 1000 here).
    assert p_value(np.zeros(999), 0.0) == 1.0


def test_mean_metric_resamples_segment_scores():
    seg = np.random.default_rng(3).uniform(0, 1, size=(2, 40))
    stats = [np.column_stack([s, np.ones_like(s)]) for s in seg]
    idxs = bootstrap_indices(40, 200, 7)
    boot = bootstrap_scores(MeanScorer(), stats, index_counts(idxs, 40), sacrebleu=False)
    np.testing.assert_allclose(boot, seg[:, idxs].mean(axis=2), rtol=1e-12)
    # Identical systems: every resampled difference is 0, never "by chance": p = 1.
    assert paired_bootstrap_p(boot[0], boot[0], 0.5, 0.5) == 1.0


@pytest.mark.parametrize(("scores", "significant", "higher", "expected"), [
    ([50, 49, 48, 40], {(0, 2), (0, 3), (1, 3), (2, 3)}, True, [1, 1, 3, 4]),
    ([50, 49, 48, 40], set(), True, [1, 1, 1, 1]),
    ([40, 48, 49, 50], {(3, 1), (3, 0), (2, 0), (1, 0)}, True, [4, 3, 1, 1]),
    ([30, 20, 25], {(1, 0), (2, 0)}, False, [3, 1, 1]),  # TER: lower is better
])
def test_rank_clusters(scores, significant, higher, expected):
    n = len(scores)
    p = np.ones((n, n))
    for i, j in significant:
        p[i, j] = p[j, i] = 0.001
    assert rank_clusters(np.array(scores, dtype=float), p, higher_is_better=higher).tolist() == expected
