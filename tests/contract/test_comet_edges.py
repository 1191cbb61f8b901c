"""COMET at its edges (issue 20): the head in fp32 under a bf16 encoder, the fast path's exact class, comet's 510-token cut."""
from __future__ import annotations

import pytest

from mteval.metrics import precision
from mteval.metrics.comet import Comet
from mteval.metrics.long_inputs import plan_units

SRCS = ["The model translates abstracts.", "We propose a new method for evaluation.", "Results improve a lot.",
        "A fourth sentence, somewhat longer than the others, about tokenisers."]
HYPS = ["模型翻译摘要。", "我们提出了一种新的评估方法。", "结果大大改善。", "第四句话比其他句子长一些，讲的是分词器。"]
REFS = [["该模型翻译摘要。"], ["我们提出一种新的评估方法。"], ["结果改善很多。"], ["第四个句子稍长，关于分词器。"]]


def bf16_representable(x: float) -> bool:
    import torch

    return float(torch.tensor(x, dtype=torch.float32).to(torch.bfloat16).float()) == x


@pytest.fixture
def bf16_cpu(monkeypatch):
    """Resolve ``auto`` to bf16 on any CPU (torch runs bf16 autocast everywhere, natively or not)."""
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset({"avx512_bf16"}))


@pytest.mark.parametrize("kind", ["comet", "cometkiwi"])
def test_a_bf16_encoder_leaves_the_head_and_the_scores_in_fp32(tiny_models, bf16_cpu, kind):
    """Under autocast the estimator ran in bf16 too, and every score was a bf16 value (8 bits of mantissa:
    128 values between 0.5 and 1). Only the encoder is reduced now: the head's output is fp32."""
    import torch

    metric = Comet(model=str(tiny_models[kind]), device="cpu", precision="auto", reference_free=kind == "cometkiwi")
    model = metric.load()
    head = model.estimator
    outputs = []
    hook = head.register_forward_hook(lambda _m, _i, out: outputs.append(out.dtype))
    try:
        result = metric.score(HYPS, [[]] * len(HYPS) if kind == "cometkiwi" else REFS, SRCS)
    finally:
        hook.remove()
    assert "|precision:bf16-mixed|" in result.signature
    assert {p.dtype for p in model.encoder.parameters()} == {torch.bfloat16}
    assert {p.dtype for p in head.parameters()} == {torch.float32}
    assert outputs and set(outputs) == {torch.float32}
    assert all(type(s) is float for s in result.segment_scores)
    assert not all(bf16_representable(s) for s in result.segment_scores), result.segment_scores


def test_bf16_scores_stay_close_to_fp32(tiny_models, bf16_cpu):
    fp32 = Comet(model=str(tiny_models["comet"]), device="cpu").score(HYPS, REFS, SRCS)
    bf16 = Comet(model=str(tiny_models["comet"]), device="cpu", precision="auto").score(HYPS, REFS, SRCS)
    drift = [abs(a - b) for a, b in zip(fp32.segment_scores, bf16.segment_scores, strict=True)]
    assert 0 < max(drift) < 5e-3


def test_a_reference_free_regression_checkpoint_scores_through_comets_predict(tiny_models, tmp_path):
    """ReferencelessRegression subclasses RegressionMetric; the embedding path, written for the reference-based
    forward, crashed on it with KeyError 'ref'. It goes through comet's own predict, and scores as predict does."""
    from mteval.metrics.comet_embed import is_regression
    from mteval.testing.tiny_comet import build_referenceless_comet

    path = build_referenceless_comet(tmp_path / "comet_qe", tiny_models["xlmr"])
    metric = Comet(model=str(path), device="cpu", reference_free=True, name="comet_qe")
    model = metric.load()
    assert type(model).__name__ == "ReferencelessRegression" and not is_regression(model)
    assert is_regression(Comet(model=str(tiny_models["comet"]), device="cpu").load())
    result = metric.score(HYPS, [[]] * len(HYPS), SRCS)
    expected = model.predict([{"src": s, "mt": h} for s, h in zip(SRCS, HYPS, strict=True)], batch_size=4, gpus=0,
                             accelerator="cpu", num_workers=0, progress_bar=False).scores
    assert result.segment_scores == pytest.approx(list(expected), abs=1e-6)
    assert "|qe:yes|" in result.signature


@pytest.mark.parametrize("words, cut", [(508, False), (509, True), (510, True), (511, True)])
def test_a_text_is_counted_as_cut_exactly_when_comet_cuts_it(tiny_models, words, cut):
    """comet's prepare_sample truncates at max_length=max_positions-2 = 510 tokens, <s> and </s> included:
    texts of 511 and 512 tokens were cut but not counted while the limit read 512."""
    metric = Comet(model=str(tiny_models["comet"]), device="cpu")
    encoder = metric.load().encoder
    hyp = " ".join(["a"] * words)  # one token per word in the tiny vocabulary, plus <s> and </s>
    n_tokens = len(encoder.tokenizer(hyp)["input_ids"])
    assert n_tokens == words + 2
    fed = int(encoder.prepare_sample([hyp])["attention_mask"].sum())
    assert (fed < n_tokens) == cut, "comet's own truncation disagrees with the premise of the test"
    plan = plan_units(metric, [hyp], [["短"]], ["Short."], None)
    assert plan.limit == 510
    assert (plan.truncated == [0]) == cut
