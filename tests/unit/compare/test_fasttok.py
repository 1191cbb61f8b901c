"""The translate-table zh tokenizer gives sacrebleu's TokenizerZh output exactly."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sacrebleu.metrics import BLEU
from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a
from sacrebleu.tokenizers.tokenizer_zh import TokenizerZh

from mteval.data.sacrebleu_cache import entry, read_fields
from mteval.metrics.fasttok import FastTokenizerZh, speed_up

# Characters around every rule: CJK, full-width forms, the U+2001..U+2A6D span sacrebleu's range
# table treats as Chinese, astral CJK it does not, ASCII punctuation, digits with . , -, spaces.
ALPHABET = st.sampled_from(list("的是在中文。，、「」！？（）：；ＡＢ１２　\u2001\u2014\u2026\u2a6d\u2a6e\U00020000\U0002f81f")
                           + list(" \t.,-:;!?()[]{}<>/\\'\"#$%&*+=@^_`|~0123456789abcXYZ"))


def _lines(every: int) -> list[str]:
    """Every ``every``-th line of WMT22 en-zh and zh-en: sources, references and submissions."""
    out = []
    for pair in ("en-zh", "zh-en"):
        for name, path in sorted(read_fields(entry("wmt22", pair), pair).items()):
            if name not in ("docid", "domain", "origlang"):
                out += path.read_text(encoding="utf-8").split("\n")[::every]
    return out


def _original(line: str) -> str:
    return TokenizerZh.__call__.__wrapped__(TokenizerZh(), line)  # bypass the lru_cache


@settings(max_examples=300, deadline=None)
@given(st.text(ALPHABET, max_size=40))
def test_random_text(line):
    assert FastTokenizerZh(TokenizerZh())(line) == _original(line)


def test_wmt22_sample(wmt22):
    fast = FastTokenizerZh(TokenizerZh())
    lines = _lines(every=10)
    assert len(lines) > 5000
    assert [fast(x) for x in lines] == [_original(x) for x in lines]


@pytest.mark.slow
def test_wmt22_every_line(wmt22):
    fast = FastTokenizerZh(TokenizerZh())
    lines = _lines(every=1)
    assert [fast(x) for x in lines] == [_original(x) for x in lines]


def test_speed_up_only_replaces_the_zh_tokenizer():
    zh, en = BLEU(tokenize="zh"), BLEU(tokenize="13a")
    speed_up(zh)
    speed_up(en)
    assert isinstance(zh.tokenizer, FastTokenizerZh) and zh.tokenizer.signature() == "zh"
    assert isinstance(en.tokenizer, Tokenizer13a)
    refs = [["我们提出了一个新的数据集。"]]
    assert zh.corpus_score(["我们提出了新的数据集，"], refs).score == \
        BLEU(tokenize="zh").corpus_score(["我们提出了新的数据集，"], refs).score
