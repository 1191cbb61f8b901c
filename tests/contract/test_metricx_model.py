"""MetricX-24 on the tiny mT5 checkpoint: known scores, what the model sees, clipping, batching, long inputs,
identity by content."""
from __future__ import annotations

import pytest

from mteval.errors import ConfigError
from mteval.metrics.metricx import MetricX, input_text
from tests.helpers import ROOT

ROWS = [  # (source, hypothesis, reference)
    ("The model translates abstracts.", "模型翻译摘要。", "该模型翻译摘要。"),
    ("We propose a new method.", "我们提出了一种新方法。", "我们提出一种新的方法。"),
    ("Results improve.", "", "结果有所改善。"),
]
# Scores of the tiny random-weight model (seed 0), frozen: a change to the input format, the EOS
# handling or the readout changes them.
KNOWN = {
    "qe": [10.9626, 5.8893, 7.7894],
    "ref": [11.5884, 6.1601, 8.1050],
}


def _metricx(tiny_models, **kw) -> MetricX:
    """fp32 unless a test says otherwise: ``auto`` would be bf16 on a CPU with bf16 and the known scores differ."""
    return MetricX(model=str(tiny_models["metricx"]), tokenizer=str(tiny_models["mt5_tokenizer"]),
                   **{"precision": "32", **kw})


@pytest.mark.parametrize("mode", ["qe", "ref"])
def test_known_scores_of_the_tiny_model(tiny_models, mode):
    metric = _metricx(tiny_models, reference_free=mode == "qe", name=f"metricx_{mode}")
    result = metric.score([h for _, h, _ in ROWS], [[r] for *_, r in ROWS], [s for s, _, _ in ROWS])
    assert result.segment_scores == pytest.approx(KNOWN[mode], abs=2e-3)
    assert result.score == pytest.approx(sum(KNOWN[mode]) / 3, abs=2e-3)
    assert result.higher_is_better is False
    assert ("|qe:yes|" in result.signature) == (mode == "qe")
    assert "tok:" in result.signature and "|maxtok:1536|" in result.signature


def test_the_model_sees_the_joined_text_without_eos_and_the_readout_logit(tiny_models, monkeypatch):
    metric = _metricx(tiny_models)
    model = metric.load()
    tok = metric.load_tokenizer()
    seen = {}
    original = model.forward

    def spy(**kw):
        seen.update(kw)
        out = original(**kw)
        seen["logits"] = out.logits
        return out

    monkeypatch.setattr(model, "forward", spy)
    score = metric.predict([input_text("a", "b", "c")])[0]
    expected_ids = tok("source: a candidate: b reference: c")["input_ids"]
    assert expected_ids[-1] == tok.eos_token_id
    assert seen["input_ids"][0].tolist() == expected_ids[:-1]
    assert seen["decoder_input_ids"].tolist() == [[0]]
    readout = tok.convert_tokens_to_ids("<extra_id_10>")
    assert readout == len(tok) - 11  # 10 extra ids above it, as 250089 in the real 250100-token vocabulary
    assert score == pytest.approx(float(seen["logits"][0, 0, readout].clamp(0, 25)), abs=1e-6)


@pytest.mark.parametrize("scale, expected", [(1e4, 25.0), (-1e4, 0.0)])
def test_scores_are_clipped_to_0_25(tiny_models, scale, expected):
    import torch

    metric = _metricx(tiny_models, reference_free=True)
    model = metric.load()
    readout = metric.load_tokenizer().convert_tokens_to_ids("<extra_id_10>")
    with torch.no_grad():
        model.lm_head.weight[readout] = model.lm_head.weight[readout] * scale
    result = metric.score(["x y z"], [[]], ["a b c"])
    assert result.segment_scores == [expected]


def test_batching_and_padding_do_not_change_scores(tiny_models):
    texts = [input_text(s, h, r) for s, h, r in ROWS] * 2
    one = _metricx(tiny_models, batch_size=1).predict(texts)
    many = _metricx(tiny_models, batch_size=4).predict(texts)
    assert many == pytest.approx(one, abs=1e-4)


def test_length_sorted_batches_give_each_input_its_own_score_in_input_order(tiny_models, monkeypatch):
    """Batches are formed longest first (less padding); every score must come back at its input's position,
    equal at fp32 to batches taken in input order, and the batches must really have been sorted."""
    from mteval.metrics import metricx as metricx_module
    from mteval.metrics.comet_embed import length_batches

    texts = [input_text(s, h, r) for s, h, r in ROWS] + ["source: a candidate: b", input_text(*ROWS[1][:2], None)]
    seen: list[list[int]] = []

    def recording(lengths, size):
        seen.extend(batches := length_batches(lengths, size))
        return batches

    monkeypatch.setattr(metricx_module, "length_batches", recording)
    metric = _metricx(tiny_models, batch_size=2)
    ids = [len(x) for x in metric.load_tokenizer()(texts)["input_ids"]]
    sorted_scores = metric.predict(texts)
    assert [i for b in seen for i in b] == sorted(range(len(texts)), key=lambda i: -ids[i]) != list(range(len(texts)))
    monkeypatch.setattr(metricx_module, "length_batches",
                        lambda lengths, size: [list(range(i, min(i + size, len(lengths)))) for i in range(0, len(lengths), size)])
    in_order = metric.predict(texts)
    alone = [metric.predict([t])[0] for t in texts]
    assert sorted_scores == pytest.approx(in_order, abs=1e-5) and sorted_scores == pytest.approx(alone, abs=1e-5)
    assert len(set(round(s, 3) for s in sorted_scores)) == len(texts)  # distinct: a permutation would show


def test_reference_mode_skips_segments_without_reference_and_qe_scores_all(tiny_models):
    hyps, srcs = [h for _, h, _ in ROWS], [s for s, _, _ in ROWS]
    refs = [[ROWS[0][2]], [], []]
    ref = _metricx(tiny_models).score(hyps, refs, srcs)
    assert ref.n_scored == 1 and ref.segment_scores[1:] == [None, None]
    qe = _metricx(tiny_models, reference_free=True).score(hyps, refs, srcs)
    assert qe.n_scored == 3 and None not in qe.segment_scores


def test_an_over_long_qe_input_is_scored_by_its_sentence_pairs_length_weighted(tiny_models):
    pairs = [("The first sentence is here.", "第一句在这里。"), ("A second one follows it.", "第二句紧随其后。"),
             ("And a third closes the abstract.", "第三句结束摘要。")]
    src, hyp = " ".join(s for s, _ in pairs), "".join(h for _, h in pairs)
    metric = _metricx(tiny_models, reference_free=True, max_input_tokens=60)
    limit, (whole,) = metric.measure_inputs([hyp], [[]], [src])
    _, lengths = metric.measure_inputs([h for _, h in pairs], [[]] * 3, [s for s, _ in pairs])
    assert whole > limit >= max(lengths), "the test needs a segment over the limit made of pairs under it"

    result = metric.score([hyp, "短。"], [[], []], [src, "Short."], pairs=[pairs, None])
    per_pair = metric.predict([input_text(s, h, None) for s, h in pairs])
    expected = sum(s * n for s, n in zip(per_pair, lengths, strict=True)) / sum(lengths)
    assert result.segment_scores[0] == pytest.approx(expected, abs=1e-5)
    assert result.score == pytest.approx(sum(result.segment_scores) / 2, abs=1e-9)
    info = result.extra["long_inputs"]
    assert (info["over_limit"], info["by_sentences"], info["truncated"]) == (1, 1, 0)
    assert info["by_sentences_at"] == [0]
    assert result.signature.endswith("|maxtok:60|long:sentences")


def test_an_over_long_input_without_pairs_is_cut_and_counted(tiny_models):
    src = "The first sentence is here. A second one follows it. And a third closes the abstract."
    metric = _metricx(tiny_models, max_input_tokens=40)  # reference mode: never split
    result = metric.score(["第一句在这里。第二句紧随其后。"], [["参考译文。"]], [src],
                          pairs=[[("a", "b"), ("c", "d")]])
    info = result.extra["long_inputs"]
    assert (info["over_limit"], info["by_sentences"], info["truncated"], info["truncated_at"]) == (1, 0, 1, [0])
    assert result.signature.endswith("|maxtok:40|long:truncate")


def test_a_readout_token_outside_the_vocabulary_is_refused(tiny_models):
    with pytest.raises(ConfigError, match="readout_token"):
        _metricx(tiny_models, readout_token="<extra_id_999>").load_tokenizer()


def test_offline_check_names_a_missing_tokenizer_repo(tiny_models, monkeypatch):
    from mteval.errors import ModelUnavailableError
    from mteval.hub.availability import check_models
    from mteval.pipeline import required_models
    from mteval.systems.copy import CopySystem

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    metric = MetricX(model=str(tiny_models["metricx"]), tokenizer="google/mt5-xl", reference_free=True)
    with pytest.raises(ModelUnavailableError, match="google/mt5-xl.*metrics.metricx"):
        check_models(required_models(CopySystem(), [metric]))
    check_models(required_models(CopySystem(), [_metricx(tiny_models, reference_free=True)]))  # all local: no error


def test_lower_is_better_flows_through_scores_json_compare_and_the_gate(tiny_models, tmp_path):
    """Real MetricX runs: the gate's effect is baseline - current (a higher MetricX is worse), the
    shipped gate config has a min_effect for both modes, and compare ranks the lower score first."""
    import json

    import yaml

    from mteval.compare.comparison import compare_runs
    from mteval.compare.load import load_runset
    from mteval.gate.baseline import view_of_run
    from mteval.gate.decide import GateConfig, decide
    from mteval.testing.runs import text_run

    srcs = [f"{s} ({i})" for i in range(4) for s, _, _ in ROWS]
    good = [f"{h}（{i}）" for i in range(4) for _, h, _ in ROWS]
    other = ["模型。"] * len(good)
    metric = _metricx(tiny_models, reference_free=True, name="metricx_qe")
    a = text_run(tmp_path / "a", good, good, metrics=[metric], srcs=srcs)
    b = text_run(tmp_path / "b", other, good, metrics=[metric], srcs=srcs)
    scores = {p.name: json.loads((p / "scores.json").read_text())["metrics"]["metricx_qe"] for p in (a, b)}
    assert scores["a"]["higher_is_better"] is False and scores["a"]["score"] != scores["b"]["score"]

    min_effect = yaml.safe_load((ROOT / "conf/gate.yaml").read_text())
    assert {"metricx", "metricx_qe"} <= set(min_effect["min_effect"])
    (verdict,) = decide(view_of_run(a), view_of_run(b), GateConfig(min_effect={"metricx_qe": 0.0},
                                                                   n_resamples=200, seed=1)).verdicts
    assert verdict.higher_is_better is False
    assert verdict.effect == pytest.approx(scores["a"]["score"] - scores["b"]["score"], abs=1e-6)

    comp = compare_runs(load_runset([a, b]), ["metricx_qe"], n_bootstrap=100, n_ar=0)
    (m,) = comp.metrics
    assert m.higher_is_better is False
    best = min(range(2), key=lambda i: m.scores[i])
    assert m.ranks[best] == min(m.ranks)


def test_signature_names_the_weights_by_content(tiny_models, tmp_path):
    """Weights replaced at the same path give another signature (compare and the gate then refuse)."""
    import shutil

    import torch

    model_dir = tmp_path / "metricx"
    shutil.copytree(tiny_models["metricx"], model_dir)
    args = dict(model=str(model_dir), tokenizer=str(tiny_models["mt5_tokenizer"]), reference_free=True)
    before = MetricX(**args).score(["模型。"], [[]], ["The model."]).signature
    state = torch.load(model_dir / "pytorch_model.bin", weights_only=True)
    state["lm_head.weight"] = state["lm_head.weight"] * 1.01
    torch.save(state, model_dir / "pytorch_model.bin")
    after = MetricX(**args).score(["模型。"], [[]], ["The model."]).signature
    assert before != after and "@sha256:" in before


def test_bf16_on_an_fp32_release_drifts_little_and_is_not_rounded_to_bf16(tiny_models, monkeypatch):
    """The model runs in bf16, its output layer in fp32: scores are not bf16 values (steps of 1/16 from 8 to 16)."""
    from mteval.metrics import precision

    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset({"avx512_bf16"}))
    texts = [input_text(s, h, r) for s, h, r in ROWS] + [input_text(s, h, None) for s, h, _ in ROWS]
    fp32 = _metricx(tiny_models).predict(texts)
    metric = _metricx(tiny_models, precision="auto", device="cpu")
    bf16 = metric.predict(texts)
    assert metric.resolved_precision() == "bf16" and "|precision:bf16|" in metric.signature(1)
    import torch

    assert any(torch.tensor(s).bfloat16().item() != s for s in bf16)  # not bf16 values: the head ran in fp32
    assert 0 < max(abs(a - b) for a, b in zip(fp32, bf16, strict=True)) < 0.5
