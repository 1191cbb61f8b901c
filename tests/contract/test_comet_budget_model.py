"""COMET on a CPU budget, on the tiny checkpoint: a subset's segment scores are the full run's."""
from __future__ import annotations

import pytest

from mteval.metrics.comet import Comet


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:.*LeafSpec")
def test_subset_scores_match_the_full_run_on_a_tiny_comet(tiny_models):
    srcs = [f"Sentence number {i} about {'models ' * (i % 5)}and data." for i in range(12)]
    hyps = [f"第{i}句关于{'模型' * (i % 4)}和数据。" for i in range(12)]
    refs = [[f"关于数据的第{i}句。"] for i in range(12)]
    full = Comet(model=str(tiny_models["comet"]), device="cpu").score(hyps, refs, srcs)
    sub = Comet(model=str(tiny_models["comet"]), device="cpu", max_segments=4).score(hyps, refs, srcs)
    picked = [i for i, s in enumerate(sub.segment_scores) if s is not None]
    assert len(picked) == 4
    assert [sub.segment_scores[i] for i in picked] == pytest.approx([full.segment_scores[i] for i in picked],
                                                                    abs=1e-5)
    assert sub.extra["ci95"][0] <= sub.score <= sub.extra["ci95"][1]
