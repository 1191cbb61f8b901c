"""Tables of tiny inputs with known scores, and equality with sacrebleu's sentence API."""
from __future__ import annotations

import pytest
import sacrebleu

from mteval.metrics.sacre import BLEU, TER, ChrF


@pytest.mark.parametrize(
    ("metric", "hyp", "ref", "tgt", "expected"),
    [
        (BLEU(zh_punct="none"), "今天天气很好。", "今天天气很好。", "zh", 100.0),
        (BLEU(zh_punct="none"), "猫坐垫子上", "狗跑", "zh", 0.0),
        # Width normalisation: the same sentence with ASCII vs full-width comma.
        (BLEU(zh_punct="halfwidth"), "你好,世界。", "你好，世界。", "zh", 100.0),
        (ChrF(zh_punct="halfwidth"), "你好,世界。", "你好，世界。", "zh", 100.0),
        (ChrF(zh_punct="none"), "abc", "abc", "en", 100.0),
        (TER(zh_punct="none"), "今天天气很好", "今天天气很好", "zh", 0.0),
    ],
)
def test_known_scores(metric, hyp, ref, tgt, expected):
    result = metric.score([hyp], [[ref]], [""], tgt_lang=tgt)
    assert result.score == pytest.approx(expected, abs=1e-6)


def test_width_normalisation_changes_score_when_off():
    off = BLEU(zh_punct="none").score(["你好,世界。"], [["你好，世界。"]], tgt_lang="zh")
    assert off.score < 100.0
    assert "zhpunct" not in off.signature


def test_bleu_tokenizer_follows_target_language():
    assert "tok:zh" in BLEU().score(["你好"], [["你好"]], tgt_lang="zh").signature
    assert "tok:13a" in BLEU().score(["hello"], [["hello"]], tgt_lang="en").signature
    assert "tok:13a" in BLEU(tokenize="13a").score(["你好"], [["你好"]], tgt_lang="zh").signature


def test_ter_splits_chinese_characters():
    # Without asian_support + normalisation TER counts a whole Chinese sentence as one word.
    r = TER(zh_punct="none").score(["今天天气很好"], [["今天天气不好"]], tgt_lang="zh")
    assert r.score == pytest.approx(100 / 6, abs=0.01)
    assert "asian:yes" in r.signature


def test_segments_without_reference_are_not_scored_and_stay_in_place():
    r = ChrF(zh_punct="none").score(["甲", "乙", "丙"], [["甲"], [], ["丙"]], tgt_lang="zh")
    assert r.n_scored == 2
    assert r.segment_scores[1] is None
    assert r.segment_scores[0] == pytest.approx(100.0)


def test_variable_reference_counts_ignore_missing_references():
    # Segment 1 has two references, segment 2 one: the missing one must not act as an empty reference.
    mixed = TER(zh_punct="none").score(["今天天气很好", "我们提出方法"],
                                      [["今天天气不好", "今天天气很好"], ["我们提出新方法"]], tgt_lang="zh")
    single = TER(zh_punct="none").score(["我们提出方法"], [["我们提出新方法"]], tgt_lang="zh")
    assert mixed.segment_scores[1] == pytest.approx(single.score)
    assert mixed.segment_scores[1] == pytest.approx(100 / 7, abs=0.01)


def test_no_reference_at_all_returns_none():
    assert BLEU().score(["a"], [[]], tgt_lang="zh") is None


def test_multi_reference_uses_all_streams():
    one = BLEU(zh_punct="none").score(["今天天气很好"], [["今天天气不错"]], tgt_lang="zh")
    two = BLEU(zh_punct="none").score(["今天天气很好"], [["今天天气不错", "今天天气很好"]], tgt_lang="zh")
    assert two.score == pytest.approx(100.0)
    assert one.score < 100.0
    assert "nrefs:2" in two.signature


def test_sentence_scores_equal_sacrebleu_sentence_api():
    hyps = ["今天天气很好。", "我们提出了一种新方法", "模型在三个数据集上表现优异"]
    refs = ["今天天气不错。", "我们提出一种新的方法", "该模型在三个数据集上表现出色"]
    ours = BLEU(zh_punct="none").score(hyps, [[r] for r in refs], tgt_lang="zh").segment_scores
    theirs = sacrebleu.metrics.BLEU(tokenize="zh", effective_order=True)
    for h, r, s in zip(hyps, refs, ours):
        assert s == pytest.approx(theirs.sentence_score(h, [r]).score)
