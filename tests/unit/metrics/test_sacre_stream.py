"""Streaming sacrebleu statistics (issue 21): chunked extraction gives sacrebleu's corpus scores and signatures exactly."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sacrebleu.metrics import BLEU as SacreBLEU
from sacrebleu.metrics import CHRF

from mteval.metrics.sacre import BLEU, ChrF
from mteval.metrics.sacre_stream import StatsStream, corpus_score, extract, sentence_scores
from mteval.testing.synthetic_corpus import synthetic_segments

CONFIGS = [("bleu", lambda tok: SacreBLEU(tokenize=tok)), ("chrf", lambda tok: CHRF()),
           ("chrf++", lambda tok: CHRF(word_order=2))]


def corpus(n: int, direction: str, seed: int = 0) -> tuple[list[str], list[str]]:
    rows = list(synthetic_segments(n, direction=direction, seed=seed, rates=(0.3,)))
    return [h[0] for _, _, h in rows], [r for _, r, _ in rows]


def check_equal_to_sacrebleu(n: int, direction: str, chunk: int) -> None:
    hyps, refs = corpus(n, direction)
    tok = "zh" if direction.endswith("zh") else "13a"
    for name, make in CONFIGS:
        theirs = make(tok)
        expected = theirs.corpus_score(hyps, [refs])
        ours = make(tok)
        stats = extract(ours, hyps, [[r] for r in refs], chunk=chunk)
        assert stats.dtype == np.int32 and len(stats) == n
        assert corpus_score(ours, stats) == expected.score, name  # identical float, not approximately
        assert str(ours.get_signature()) == str(theirs.get_signature()), name


@pytest.mark.parametrize(("direction", "n"), [("en-zh", 20_000), ("zh-en", 2_000)])
def test_chunked_statistics_give_sacrebleus_corpus_scores_exactly(direction, n):
    """tok:zh on a Chinese target, 13a on English; 20,000 segments span many chunks."""
    check_equal_to_sacrebleu(n, direction, chunk=997)


@pytest.mark.slow
def test_100k_segments_equal_sacrebleu():
    check_equal_to_sacrebleu(100_000, "en-zh", chunk=4096)


@settings(max_examples=25, deadline=None)
@given(chunk=st.integers(1, 60), n=st.integers(1, 120), seed=st.integers(0, 5), extra_refs=st.integers(0, 2),
       drop=st.integers(0, 3))
def test_chunk_boundaries_change_nothing(chunk, n, seed, extra_refs, drop):
    """Any chunk size gives the same statistics, scores and signature (nrefs included, variable counts too)."""
    hyps, refs = corpus(n, "en-zh", seed)
    others, _ = corpus(n, "en-zh", seed + 10)
    # Each segment keeps its first reference; every `drop`-th loses the extra ones, so counts may vary.
    seg_refs = [[r, *others[i:i + extra_refs]][: 1 if drop and i % (drop + 1) == 0 else None] for i, r in enumerate(refs)]
    for name, make in CONFIGS:
        whole, chunked = make("zh"), make("zh")
        a = extract(whole, hyps, seg_refs, chunk=n)
        b = extract(chunked, hyps, seg_refs, chunk=chunk)
        assert np.array_equal(a, b), name
        assert corpus_score(whole, a) == corpus_score(chunked, b)
        assert str(whole.get_signature()) == str(chunked.get_signature())
        streams = [[r[k] if k < len(r) else None for r in seg_refs] for k in range(max(map(len, seg_refs)))]
        reference = make("zh")
        assert corpus_score(chunked, b) == reference.corpus_score(hyps, streams).score
        assert str(chunked.get_signature()) == str(reference.get_signature())


def test_several_systems_share_the_references_and_keep_their_own_rows():
    hyps, refs = corpus(300, "en-zh")
    other, _ = corpus(300, "en-zh", seed=3)
    mixed = [h if i % 3 else o for i, (h, o) in enumerate(zip(hyps, other, strict=True))]  # a third repeated
    stream = StatsStream(SacreBLEU(tokenize="zh"), n_systems=2)
    for lo in range(0, 300, 64):
        stream.add([hyps[lo:lo + 64], mixed[lo:lo + 64]], [[r] for r in refs[lo:lo + 64]])
    a, b = stream.arrays()
    assert np.array_equal(a, extract(SacreBLEU(tokenize="zh"), hyps, [[r] for r in refs]))
    assert np.array_equal(b, extract(SacreBLEU(tokenize="zh"), mixed, [[r] for r in refs]))


def test_the_metrics_score_with_streamed_statistics_and_sentence_scores_equal_sacrebleus():
    """The run pipeline's BLEU and chrF: corpus score and every sentence score as sacrebleu gives them."""
    hyps, refs = corpus(2_000, "en-zh")
    bleu = BLEU(zh_punct="none").score(hyps, [[r] for r in refs], tgt_lang="zh")
    assert bleu.score == SacreBLEU(tokenize="zh").corpus_score(hyps, [refs]).score
    sent = SacreBLEU(tokenize="zh", effective_order=True)
    assert bleu.segment_scores[::97] == [sent.sentence_score(h, [r]).score for h, r in zip(hyps[::97], refs[::97])]
    chrf = ChrF(zh_punct="none").score(hyps, [[r] for r in refs], tgt_lang="zh")
    assert chrf.score == CHRF().corpus_score(hyps, [refs]).score
    assert chrf.segment_scores[::97] == [CHRF().sentence_score(h, [r]).score for h, r in zip(hyps[::97], refs[::97])]
    stats = extract(CHRF(), hyps, [[r] for r in refs])
    assert sentence_scores(CHRF(), stats, chunk=7)[:50] == chrf.segment_scores[:50]
