"""The COMET speed bench's plumbing (model size, precisions tried, drift, table); the measurement is `make bench`."""
from __future__ import annotations

import pytest

from mteval.bench.comet_speed import drift, embedding_drift, format_table, reduced_precisions
from mteval.bench.models import XLMR_LARGE
from mteval.metrics import precision


@pytest.mark.slow  # builds the XLM-R-large module tree (on the meta device), as the translate bench's twin
def test_the_bench_encoder_is_xlm_r_large_sized():
    """COMET-22's encoder: 24 layers, hidden 1024, 16 heads, ffn 4096; ~303M weights without the vocabulary."""
    import torch
    from transformers import XLMRobertaConfig, XLMRobertaModel

    with torch.device("meta"):
        model = XLMRobertaModel(XLMRobertaConfig(vocab_size=8, **XLMR_LARGE), add_pooling_layer=False)
    assert (len(model.encoder.layer), model.config.hidden_size, model.config.num_attention_heads) == (24, 1024, 16)
    assert model.encoder.layer[0].intermediate.dense.out_features == 4096
    assert 300_000_000 < sum(p.numel() for p in model.encoder.parameters()) < 305_000_000


@pytest.mark.parametrize("flags, expected", [({"avx512_bf16"}, ["bf16-mixed", "int8"]), ({"avx2"}, ["int8"])])
def test_cpu_rows_are_the_reduced_precisions_the_cpu_has(monkeypatch, flags, expected):
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset(flags))
    assert reduced_precisions("cpu") == expected


def test_drift_against_fp32():
    out = drift([0.5, 0.7, 0.9], [0.5, 0.72, 0.86])
    assert out["max_abs"] == pytest.approx(0.04) and out["mean_abs"] == pytest.approx(0.02)
    assert out["system_delta"] == pytest.approx(-0.02 / 3, abs=1e-6)
    assert out["fp32_segment_std"] == pytest.approx(0.163299, abs=1e-6) and out["pearson"] > 0.99
    # The distribution, not only the max: median, 95th and 99th percentiles of |difference| (issue 20).
    assert out["p50_abs"] == pytest.approx(0.02) and out["p95_abs"] == pytest.approx(0.038)
    assert out["p99_abs"] == pytest.approx(0.0396) and out["distinct_scores"] == 3


def test_table_names_each_precision_its_speedup_drift_and_the_sweep():
    row = {"segments_per_s": 2.0, "seconds": 4.0, "count": 8, "cpu_share": 0.9}
    result = {"threads": 2, "gpu": None, "cpu": {
        "segments": 8, "batch_size": 16, "device": "cpu", "mteval_32": row,
        "mteval_bf16-mixed": {**row, "segments_per_s": 3.5}, "comet_predict_32": {**row, "segments_per_s": 1.9},
        "speedup_vs_mteval_32": {"mteval_32": 1.0, "mteval_bf16-mixed": 1.75, "comet_predict_32": 0.95},
        "drift_vs_mteval_32": {"mteval_bf16-mixed": drift([0.1, 0.2], [0.1, 0.203]),
                               "comet_predict_32": drift([0.1, 0.2], [0.1, 0.2])}},
        "sweep": {"model": "base", "precision": "bf16-mixed", "systems": ["a", "b", "c"], "segments_per_system": 4,
                  "embeddings_recomputed_per_run": {"segments_per_s": 10.0},
                  "embeddings_kept_across_runs": {"segments_per_s": 18.0}, "speedup": 1.8,
                  "max_abs_score_difference": 1e-7,
                  "model_load_seconds": {"first_run": 3.1, "later_runs_shared": 0.0001}}}
    table = format_table(result)
    assert "mteval_bf16-mixed" in table and "1.75" in table and "0.003000" in table
    assert "p50 / p95 / p99 / max" in table and "0.001500 / 0.002850 / 0.002970 / 0.003000" in table
    assert "GPU: none visible" in table
    assert "3 systems x 4 segments" in table and "(1.80x;" in table


def test_embedding_drift_is_the_cosine_to_the_fp32_embedding_of_the_same_text():
    import torch

    base = {"a": torch.tensor([1.0, 0.0]), "b": torch.tensor([0.0, 2.0]), "only-fp32": torch.tensor([1.0, 1.0])}
    other = {"a": torch.tensor([1.0, 1.0]), "b": torch.tensor([0.0, 5.0])}
    out = embedding_drift(base, other)
    assert out["texts"] == 2 and out["min"] == pytest.approx(0.707107, abs=1e-6)
    assert out["mean"] == pytest.approx((0.707107 + 1.0) / 2, abs=1e-6)
