"""The benchmark's plumbing (inputs, interleaved timing, table); the measurement itself is `make bench`."""
from __future__ import annotations

import pytest

from mteval.bench.models import OPUS_MT_EN_ZH, source_file
from mteval.bench.translate import TARGETS, format_table, interleaved, load_inputs


def test_inputs_are_distinct_ordinary_sentences_fixed_by_the_seed(wmt22):  # the bench reads WMT22 en-zh sources
    idx = load_inputs(50)
    lines = source_file().read_text(encoding="utf-8").splitlines()
    texts = [lines[i].strip() for i in idx]
    assert len(set(texts)) == 50 and idx == sorted(idx)
    assert all(5 <= len(t.split()) <= 50 for t in texts)
    assert load_inputs(50) == idx and load_inputs(50, seed=1) != idx


def test_every_path_translates_every_source_in_turn():
    calls = []

    def path(name):
        return lambda texts: calls.append((name, list(texts))) or (0.5 * len(texts), 0.25 * len(texts))

    sources = [f"s{i}" for i in range(5)]
    rates = interleaved({"a": path("a"), "b": path("b")}, sources, rounds=2, threads=1, tokens_per_source=4)
    assert calls[:2] == [("a", ["s0"]), ("b", ["s0"])]  # warm-up
    assert calls[2:] == [("a", sources[:3]), ("b", sources[:3]), ("a", sources[3:]), ("b", sources[3:])]
    assert rates["a"] == {"tokens_per_s": 8.0, "seconds": 2.5, "count": 20, "cpu_share": 0.5}  # warm-up not timed


def test_table_states_each_target():
    row = {"tokens_per_s": 10.0, "seconds": 1.0, "count": 10, "cpu_share": 1.0}
    result = {"translate": {"new_tokens_per_sentence": 32, "sentences": 4, "threads": 2, "naive": row,
                            "hf_backend": {**row, "tokens_per_s": 90.0}, "ct2_int8": {**row, "tokens_per_s": 180.0},
                            "ct2_float32": {**row, "tokens_per_s": 150.0},
                            "ratios": {"hf_vs_naive": 9.0, "ct2_vs_hf": 2.0, "ct2_int8_vs_float32": 1.2},
                            "targets": {"hf_vs_naive": {"min": 8.0, "met": True},
                                        "ct2_vs_hf": {"min": 2.5, "met": False}},
                            "gpu": None}}
    table = format_table(result)
    assert "9.00x (target >= 8.0x: met)" in table and "2.00x (target >= 2.5x: NOT MET)" in table
    assert "GPU: none visible" in table and "int8 / its float32: 1.20x" in table
    assert TARGETS == {"hf_vs_naive": 8.0, "ct2_vs_hf": 2.5}  # issue #5


@pytest.mark.slow
def test_the_benchmark_model_is_opus_mt_en_zh_sized():
    """Built on the meta device (no memory): 6+6 layers, d_model 512, 65,001 shared embeddings, ~77.9M weights."""
    import torch
    from transformers import MarianConfig, MarianMTModel

    with torch.device("meta"):
        model = MarianMTModel(MarianConfig(**OPUS_MT_EN_ZH))
    assert model.get_input_embeddings().weight.shape == (65001, 512)
    assert model.model.encoder.embed_tokens is model.model.decoder.embed_tokens or (
        model.model.encoder.embed_tokens.weight is model.model.decoder.embed_tokens.weight)
    assert (len(model.model.encoder.layers), len(model.model.decoder.layers)) == (6, 6)
    assert 77_000_000 < sum(p.numel() for p in model.parameters()) < 79_000_000
