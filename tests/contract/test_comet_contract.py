"""COMET against unbabel-comet 2.2.7: real precision, weights-only loading, inputs measured as the model joins them."""
from __future__ import annotations

import pytest

from mteval.errors import ConfigError
from mteval.metrics.comet import Comet

SRCS = ["The model translates abstracts.", "We propose a new method for evaluation.", "Results improve a lot."]
HYPS = ["模型翻译摘要。", "我们提出了一种新的评估方法。", "结果大大改善。"]


def _comet(tiny_models, kind="comet", **kw) -> Comet:
    return Comet(model=str(tiny_models[kind]), device="cpu", reference_free=kind == "cometkiwi", **kw)


def test_bf16_precision_is_applied_and_drifts_little_from_fp32(tiny_models):
    """unbabel-comet 2.2.7's predict ignores any precision set on the model; ours is an autocast
    region, so bf16 must change the numbers (a little) or the setting would be a label only."""
    refs = [[h] for h in HYPS]
    fp32 = _comet(tiny_models).score(HYPS, refs, SRCS)
    bf16 = _comet(tiny_models, precision="bf16").score(HYPS, refs, SRCS)
    drift = [abs(a - b) for a, b in zip(fp32.segment_scores, bf16.segment_scores, strict=True)]
    assert max(drift) > 0, "bf16 gave bit-identical scores: the precision setting had no effect"
    assert max(drift) < 0.01
    assert "precision:32|" in fp32.signature and "precision:bf16-mixed|" in bf16.signature


@pytest.mark.parametrize("given, canonical", [("32", "32"), ("32-true", "32"), ("bf16", "bf16-mixed"),
                                              ("bf16-mixed", "bf16-mixed"), ("16", "16-mixed"), ("int8", "int8")])
def test_precision_spellings_resolve_to_one_signature_value(given, canonical):
    assert Comet(precision=given).precision == canonical


@pytest.mark.parametrize("precision", ["bf16-true", "64", "half"])
def test_precisions_that_are_not_implemented_are_refused(precision):
    with pytest.raises(ConfigError, match="precision"):
        Comet(precision=precision)


def test_fp16_on_cpu_is_refused_with_the_fix(tiny_models):
    with pytest.raises(ConfigError, match="16-mixed needs a GPU"):
        _comet(tiny_models, precision="16-mixed").score(HYPS, [[h] for h in HYPS], SRCS)


def test_checkpoints_load_weights_only(tiny_models, monkeypatch):
    import torch

    calls = []
    real_load = torch.load

    def spy(*args, **kw):
        calls.append(kw.get("weights_only"))
        return real_load(*args, **kw)

    from mteval.metrics.comet_models import release_all

    release_all()  # an earlier test's shared model would be reused without loading
    monkeypatch.setattr(torch, "load", spy)
    _comet(tiny_models).load()
    assert calls and all(c is True for c in calls)


def test_cometkiwi_measures_the_joined_mt_and_src(tiny_models):
    """CometKiwi joins <s> mt </s></s> src </s> and cuts the whole at 512: the length that matters
    is the sum, though each text alone fits."""
    kiwi = _comet(tiny_models, "cometkiwi")
    tok = kiwi.load().encoder.tokenizer
    src, hyp = " ".join(SRCS * 12), "".join(HYPS * 12)
    n_src, n_hyp = len(tok(src)["input_ids"]), len(tok(hyp)["input_ids"])
    assert n_src <= 512 and n_hyp <= 512 < n_src + n_hyp, "the test needs two texts that fit alone but not joined"
    limit, (length,) = kiwi.measure_inputs([hyp], [[]], [src])
    assert (limit, length) == (512, n_src + n_hyp)
    comet = _comet(tiny_models)
    assert comet.measure_inputs([hyp], [["短"]], [src]) == (510, [max(n_src, n_hyp)])  # each text cut at 510


def test_an_over_long_cometkiwi_segment_is_scored_by_sentences(tiny_models):
    pairs = [(s, h) for s, h in zip(SRCS * 12, HYPS * 12, strict=True)]
    src, hyp = " ".join(s for s, _ in pairs), "".join(h for _, h in pairs)
    kiwi = _comet(tiny_models, "cometkiwi")
    result = kiwi.score([hyp, HYPS[0]], [[], []], [src, SRCS[0]], pairs=[pairs, None])
    info = result.extra["long_inputs"]
    assert (info["over_limit"], info["by_sentences"], info["truncated"]) == (1, 1, 0)
    plain = kiwi.score([hyp], [[]], [src])
    assert plain.extra["long_inputs"]["truncated_at"] == [0]
    assert plain.segment_scores[0] != pytest.approx(result.segment_scores[0], abs=1e-6)


@pytest.mark.parametrize("kind", ["comet", "cometkiwi"])  # the embedding path, and comet's own predict
def test_int8_quantises_the_encoder_and_drifts_little_from_fp32(tiny_models, kind):
    """int8 replaces the encoder's linear layers by dynamically quantised ones (and nothing else), changes
    the numbers a little, and says so in the signature."""
    refs = [[h] for h in HYPS]
    fp32 = _comet(tiny_models, kind).score(HYPS, refs, SRCS)
    metric = _comet(tiny_models, kind, precision="int8")
    int8 = metric.score(HYPS, refs, SRCS)
    import torch
    from torch.ao.nn.quantized.dynamic import Linear as Int8Linear

    model = metric.load()
    linears = [m for m in model.encoder.modules() if isinstance(m, (torch.nn.Linear, Int8Linear))]
    assert linears and all(isinstance(m, Int8Linear) for m in linears)
    assert not any(isinstance(m, Int8Linear) for m in model.estimator.modules())  # the head stays fp32
    drift = [abs(a - b) for a, b in zip(fp32.segment_scores, int8.segment_scores, strict=True)]
    assert 0 < max(drift) < 0.05
    assert "precision:int8|" in int8.signature
