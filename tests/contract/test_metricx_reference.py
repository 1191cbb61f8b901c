"""MetricX as Google's metricx24/predict.py runs it (issue 20): the fast mT5 tokenizer, readout id 250089, the release's precision."""
from __future__ import annotations

import pytest

from mteval.errors import ConfigError
from mteval.metrics.metricx import MetricX
from mteval.metrics.mt5_tokenizer import MT5_READOUT_ID, load_fast

ROWS = [("The model translates abstracts.", "模型翻译摘要。"), ("We propose a new method.", "我们提出了一种新方法。")]


def _score(metric: MetricX):
    return metric.score([h for _, h in ROWS], [[]] * len(ROWS), [s for s, _ in ROWS])


def test_the_tokenizer_is_the_fast_one_autotokenizer_gives(tiny_models):
    """predict.py calls AutoTokenizer.from_pretrained(tokenizer) and nothing else: for mT5, T5TokenizerFast."""
    metric = MetricX(model=str(tiny_models["metricx"]), tokenizer=str(tiny_models["mt5_tokenizer"]))
    tok = metric.load_tokenizer()
    assert tok.is_fast and type(tok).__name__ == "T5TokenizerFast"
    reference = load_fast(str(tiny_models["mt5_tokenizer"]), None, local_files_only=True)
    texts = [f"source: {s} candidate: {h}" for s, h in ROWS]
    assert tok(texts)["input_ids"] == reference(texts)["input_ids"]


def test_the_readout_of_the_real_mt5_vocabulary_is_250089():
    """The lookup on google/mt5-xl itself, where its tokenizer is in the Hugging Face cache."""
    from huggingface_hub import hf_hub_download

    try:
        hf_hub_download("google/mt5-xl", "spiece.model", local_files_only=True)
    except Exception:  # noqa: BLE001 - any miss means: not cached here
        pytest.skip("google/mt5-xl's tokenizer is not in the Hugging Face cache (offline machine); "
                    "`mteval-prefetch metrics=[metricx]` fetches it")
    metric = MetricX(tokenizer="google/mt5-xl")
    tok = metric.load_tokenizer()
    assert tok.is_fast and len(tok) == 250_100
    assert metric._readout == MT5_READOUT_ID


@pytest.mark.slow  # builds and runs a MetricX model with mT5's 250,112-row vocabulary
def test_an_mt5_sized_vocabulary_with_the_readout_at_250089_scores(tmp_path):
    from mteval.testing.tiny_metricx import build_mt5_sized_metricx

    path = build_mt5_sized_metricx(tmp_path / "mt5_sized")
    metric = MetricX(model=str(path), tokenizer=str(path), reference_free=True)
    assert metric.load_tokenizer().convert_tokens_to_ids("<extra_id_10>") == MT5_READOUT_ID
    assert metric.load().config.vocab_size == 250_112
    result = _score(metric)
    assert all(0 <= s <= 25 for s in result.segment_scores)


@pytest.mark.slow  # builds and runs a MetricX model with mT5's 250,112-row vocabulary
@pytest.mark.parametrize("where", ["tokenizer", "model"])
def test_an_mt5_sized_vocabulary_reading_another_logit_is_refused(tmp_path, monkeypatch, where):
    """Sentinels numbered upwards put <extra_id_10> at 250010: the reference would read 250089 regardless.
    Refused when the tokenizer loads (before any weights), or, for a tokenizer of another size, when
    the model shows mT5's 250,112 rows."""
    from mteval.testing.tiny_metricx import build_mt5_sized_metricx

    good = build_mt5_sized_metricx(tmp_path / "good")
    if where == "tokenizer":
        bad = build_mt5_sized_metricx(tmp_path / "bad", sentinels_descending=False)
        metric = MetricX(model=str(good), tokenizer=str(bad), reference_free=True)
        with pytest.raises(ConfigError, match=r"readout_token='<extra_id_10>' has id 250010 in tokenizer .*"
                                              r"MetricX reads logit 250089 of mT5's vocabulary"):
            metric.load_tokenizer()
        assert metric._model is None
        return
    metric = MetricX(model=str(good), tokenizer=str(good), reference_free=True, readout_token="<extra_id_11>")
    import mteval.metrics.metricx as metricx_module

    real = metricx_module.check_readout
    calls = []

    def tokenizer_of_another_size(*args, **kw):  # only the model's size can tell it is mT5's
        calls.append(kw["model_vocab"])
        return real(*args, **{**kw, "tokenizer_size": 1100})

    monkeypatch.setattr(metricx_module, "check_readout", tokenizer_of_another_size)
    with pytest.raises(ConfigError, match=r"has id 250088 .* reads logit 250089"):
        metric.load()
    assert calls == [None, 250_112]


@pytest.mark.parametrize("saved, setting, flags, expected", [
    ("bfloat16", "auto", {"avx2"}, "bfloat16"),  # a -bfloat16 release: bf16 as in predict.py, whatever the CPU
    ("float32", "auto", {"avx2"}, "float32"), ("float32", "auto", {"avx512_bf16"}, "bfloat16"),
    ("bfloat16", "32", {"avx512_bf16"}, "float32"), ("float32", "bf16", {"amx_bf16"}, "bfloat16")])
def test_the_compute_precision_follows_the_release_and_the_cpu_unless_set(tiny_models, tmp_path, monkeypatch,
                                                                          saved, setting, flags, expected):
    """Google's -bfloat16 copies compute in bf16 in predict.py; precision=auto does the same, and otherwise
    takes bf16 where the CPU multiplies bf16 natively (COMET's rule); the signature names the result."""
    import torch

    from mteval.metrics import precision
    from mteval.testing.tiny_metricx import build_metricx

    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset(flags))
    path = build_metricx(tmp_path / f"metricx_{saved}", tiny_models["mt5_tokenizer"], dtype=saved)
    metric = MetricX(model=str(path), tokenizer=str(tiny_models["mt5_tokenizer"]), reference_free=True,
                     precision=setting, device="cpu")
    result = _score(metric)
    weights = dict(metric.load().named_parameters())
    assert {p.dtype for n, p in weights.items() if not n.startswith("lm_head")} == {getattr(torch, expected)}
    # an fp32 release run in bf16 reads its score in fp32; a bf16 release keeps predict.py's bf16 output layer
    assert weights["lm_head.weight"].dtype == (torch.float32 if saved == "float32" else getattr(torch, expected))
    assert f"|precision:{'bf16' if expected == 'bfloat16' else '32'}|" in result.signature


def test_bf16_on_a_cpu_without_it_is_refused_in_one_line_naming_the_setting(tiny_models, monkeypatch):
    from mteval.metrics import precision

    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset({"avx2"}))
    metric = MetricX(model=str(tiny_models["metricx"]), tokenizer=str(tiny_models["mt5_tokenizer"]),
                     precision="bf16", device="cpu")
    with pytest.raises(ConfigError, match=r"^metrics\.metricx\.precision=bf16: cpu has no native bfloat16.*auto or 32$"):
        metric.preflight()


def test_a_bfloat16_release_is_known_by_its_name(monkeypatch):
    metric = MetricX(model="google/metricx-24-hybrid-large-v2p6-bfloat16", device="cpu")
    monkeypatch.setattr("transformers.AutoConfig.from_pretrained", lambda *a, **k: type("C", (), {})())
    assert metric.resolved_precision() == "bf16"
