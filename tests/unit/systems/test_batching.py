"""Length-sorted token-budget batching: plan_batches' table and properties, and order restored by translate."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mteval.systems.base import SentenceBatchedSystem
from mteval.systems.batching import plan_batches


@pytest.mark.parametrize(
    ("lengths", "batch_size", "max_tokens", "expected"),
    [
        ([], 4, None, []),
        ([3, 1, 2], 2, None, [[0, 2], [1]]),  # longest first
        ([2, 2, 2], 2, None, [[0, 1], [2]]),  # ties keep input order
        ([1, 2, 3, 4, 5], 10, None, [[4, 3, 2, 1, 0]]),
        ([5, 4, 3, 2, 1], 10, 8, [[0], [1, 2], [3, 4]]),  # 5+4 pads to 10 > 8; 4+3 pads to 8
        ([2, 2, 2, 2, 2], 10, 6, [[0, 1, 2], [3, 4]]),  # 3 x 2 = 6 fits, 4 x 2 does not
        ([10, 1], 4, 4, [[0], [1]]),  # a sentence over the budget still goes, alone
        ([1, 9, 1, 9], 2, 100, [[1, 3], [0, 2]]),  # long with long, short with short
    ],
)
def test_plan_batches_table(lengths, batch_size, max_tokens, expected):
    assert plan_batches(lengths, batch_size=batch_size, max_tokens=max_tokens) == expected


@given(
    lengths=st.lists(st.integers(min_value=1, max_value=60), max_size=80),
    batch_size=st.integers(min_value=1, max_value=16),
    max_tokens=st.one_of(st.none(), st.integers(min_value=1, max_value=300)),
)
def test_plan_batches_covers_each_item_once_within_budget(lengths, batch_size, max_tokens):
    batches = plan_batches(lengths, batch_size=batch_size, max_tokens=max_tokens)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    for batch in batches:
        assert 1 <= len(batch) <= batch_size
        if max_tokens is not None and len(batch) > 1:
            assert len(batch) * max(lengths[i] for i in batch) <= max_tokens
    flat = [lengths[i] for b in batches for i in b]
    assert flat == sorted(flat, reverse=True)  # length-sorted, so padding stays small


class WordBackend(SentenceBatchedSystem):
    """A test double: one token per word; 'translates' by upper-casing; records its batches."""

    def __init__(self, **kw):
        super().__init__(name="words", max_input_tokens=100, split_sentences=False, **kw)
        self.batches: list[list[str]] = []

    def count_tokens(self, texts):
        return [len(t.split()) for t in texts]

    def _translate_batch(self, sentences, *, src_lang, tgt_lang):
        self.batches.append(list(sentences))
        return [s.upper() for s in sentences]


def test_translate_restores_order_and_respects_the_budget():
    sources = ["a b c d e f", "x", "one two three", "x", "", "p q r s", "  "]
    system = WordBackend(batch_size=2, max_tokens=8)
    out = system.translate(sources, src_lang="en", tgt_lang="zh").hyps
    assert out == ["A B C D E F", "X", "ONE TWO THREE", "X", "", "P Q R S", ""]
    assert [len(b) for b in system.batches] == [1, 2, 1]  # 6 | 4+3 | 1 (duplicate "x" sent once)
    assert system.batches[0] == ["a b c d e f"]
    for batch in system.batches:
        counts = system.count_tokens(batch)
        assert len(batch) == 1 or len(batch) * max(counts) <= 8
    assert sum(len(b) for b in system.batches) == 4  # blanks are never sent to the model


def test_translate_reports_progress_per_batch():
    system = WordBackend(batch_size=1, max_tokens=None)
    seen = []
    system.on_progress = lambda done, total: seen.append((done, total))
    system.translate(["a", "b c", "d e f"], src_lang="en", tgt_lang="zh").hyps
    assert seen == [(1, 3), (2, 3), (3, 3)]
