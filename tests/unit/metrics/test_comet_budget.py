"""COMET on a CPU budget: a length-stratified subset, its bootstrap CI, and how results report it."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mteval.metrics.comet import Comet, stratified_subset
from mteval.stats.intervals import mean_ci


@pytest.mark.parametrize(
    ("lengths", "k", "check"),
    [
        ([5, 1, 4, 2, 3], 10, lambda picks: picks == [0, 1, 2, 3, 4]),  # k >= n: everything
        ([5, 1, 4, 2, 3], 5, lambda picks: picks == [0, 1, 2, 3, 4]),
        # Two strata of the length order (1,2 | 3,4 after sorting): one short and one long pick.
        ([40, 10, 30, 20], 2, lambda picks: sorted([40, 10, 30, 20][i] // 25 for i in picks) == [0, 1]),
        ([7] * 9, 3, lambda picks: len(picks) == 3),
    ],
)
def test_stratified_subset_table(lengths, k, check):
    assert check(stratified_subset(lengths, k, seed=12345))


@given(lengths=st.lists(st.integers(0, 200), min_size=1, max_size=120), k=st.integers(1, 130),
       seed=st.integers(0, 2**31))
def test_stratified_subset_takes_one_per_length_stratum(lengths, k, seed):
    picks = stratified_subset(lengths, k, seed=seed)
    n = len(lengths)
    assert picks == sorted(set(picks)) and len(picks) == min(k, n)
    assert stratified_subset(lengths, k, seed=seed) == picks  # fixed seed, fixed subset
    if k < n:
        rank = {i: r for r, i in enumerate(sorted(range(n), key=lambda i: (lengths[i], i)))}
        strata = sorted(next(s for s in range(k) if s * n // k <= rank[i] < (s + 1) * n // k) for i in picks)
        assert strata == list(range(k))


def test_mean_ci():
    assert mean_ci([0.5] * 20, seed=1) == (0.5, 0.5)
    values = [i / 100 for i in range(100)]
    lo, hi = mean_ci(values, seed=1)
    assert lo < sum(values) / len(values) < hi
    assert 0.40 < lo < 0.46 and 0.53 < hi < 0.59  # mean 0.495, standard error ~0.029
    assert mean_ci(values, seed=1) == (lo, hi)
    wide_lo, wide_hi = mean_ci([v * 3 for v in values], seed=1)
    assert wide_hi - wide_lo > 2.5 * (hi - lo)


def _fake_comet(monkeypatch, **kw) -> Comet:
    """A Comet whose model is replaced by a score that is the hypothesis length / 100."""
    metric = Comet(model="unused", **kw)
    monkeypatch.setattr(metric, "_predict", lambda samples: [len(s["mt"]) / 100 for s in samples])
    monkeypatch.setattr(metric, "measure_inputs", lambda hyps, refs, srcs: None)  # no model to measure with
    monkeypatch.setattr(metric, "identity", lambda: "sha256:0f0f0f0f0f0f0f0f")  # no checkpoint to hash
    return metric


def test_max_segments_scores_a_subset_and_reports_its_ci(monkeypatch):
    hyps = ["x" * n for n in range(1, 41)]
    srcs = ["s" * (n % 7 + 1) for n in range(40)]
    refs = [["r"]] * 40
    full = _fake_comet(monkeypatch).score(hyps, refs, srcs)
    assert "subset" not in full.extra and "|subset:" not in full.signature

    result = _fake_comet(monkeypatch, max_segments=10, subset_seed=7).score(hyps, refs, srcs)
    scored = [i for i, s in enumerate(result.segment_scores) if s is not None]
    assert scored == stratified_subset([len(s) for s in srcs], 10, seed=7)
    assert all(result.segment_scores[i] == len(hyps[i]) / 100 for i in scored)
    assert result.score == pytest.approx(sum(len(hyps[i]) for i in scored) / 1000)
    assert result.extra["subset"] == 10
    lo, hi = result.extra["ci95"]
    assert lo <= result.score <= hi
    assert result.signature == f"{full.signature}|subset:10|seed:7"
    assert result.to_dict()["ci95"] == [lo, hi]  # reaches scores.json


def test_max_segments_at_or_above_the_corpus_size_changes_nothing(monkeypatch):
    hyps, refs, srcs = ["aa", "b", "cccc"], [["r"], ["r"], ["r"]], ["s1", "s2", "s3"]
    plain = _fake_comet(monkeypatch).score(hyps, refs, srcs)
    budget = _fake_comet(monkeypatch, max_segments=3).score(hyps, refs, srcs)
    assert (budget.score, budget.segment_scores, budget.signature) == (plain.score, plain.segment_scores,
                                                                      plain.signature)
    assert budget.extra == {}


def test_max_segments_is_validated():
    from mteval.validate import SettingError

    with pytest.raises(SettingError, match="max_segments=1 is out of range"):
        Comet(model="unused", max_segments=1)


def test_comet_small_config_names_a_real_model(compose):
    from hydra.utils import instantiate

    metric = instantiate(compose("metrics=[comet_small]").metrics.comet_small, _convert_="all")
    assert (metric.model_id, metric.name, metric.max_segments) == ("Unbabel/eamt22-cometinho-da", "comet_small", None)
