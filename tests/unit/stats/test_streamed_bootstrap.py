"""The streamed bootstrap (issue 21) draws sacrebleu's resamples block by block and equals the one-matrix bootstrap."""
from __future__ import annotations

import numpy as np
import pytest
from sacrebleu.metrics import BLEU as SacreBLEU
from sacrebleu.metrics import CHRF

from mteval.metrics.sacre_stream import extract
from mteval.stats.resampling import bootstrap_counts, bootstrap_indices, bootstrap_scores, streamed_bootstrap_scores
from mteval.stats.scorers import scorer_for
from mteval.testing.synthetic_corpus import synthetic_segments


@pytest.mark.parametrize("make", [lambda: SacreBLEU(tokenize="zh"), lambda: CHRF(word_order=2)])
@pytest.mark.parametrize(("memory", "segment_block"), [(1 << 23, 1 << 16), (5000, 97), (1, 1)])
def test_streamed_bootstrap_equals_the_bootstrap_on_the_whole_count_matrix(make, memory, segment_block):
    rows = list(synthetic_segments(1_200, direction="en-zh", seed=1))
    refs = [[r] for _, r, _ in rows]
    stats = [extract(make(), [h[i] for _, _, h in rows], refs) for i in range(2)]  # int32, as streamed
    scorer = scorer_for(make())
    expected = bootstrap_scores(scorer, [s.astype(np.float64) for s in stats], bootstrap_counts(1_200, 60, 12345),
                                sacrebleu=True)
    got = streamed_bootstrap_scores(scorer, stats, 60, 12345, sacrebleu=True, memory=memory,
                                    segment_block=segment_block)
    assert np.array_equal(got, expected)


def test_resample_rows_drawn_in_blocks_are_sacrebleus_draws():
    rng = np.random.default_rng(7)
    blocks = np.vstack([rng.choice(1001, size=(k, 1001), replace=True) for k in (5, 3, 11, 1)])
    assert np.array_equal(blocks, bootstrap_indices(1001, 20, 7))
