"""The MetricX speed bench's plumbing (model size, padding saved by length sorting, table); the measurement is `make bench`."""
from __future__ import annotations

import pytest

from mteval.bench.metricx_model import MT5_LARGE
from mteval.bench.metricx_speed import format_table, padded_tokens


@pytest.mark.slow  # builds the mT5-large module tree (on the meta device)
def test_the_bench_model_is_mt5_large_sized():
    """google/metricx-24-hybrid-large-v2p6 is mT5-large: 24+24 layers, d_model 1024, gated d_ff 2816, 16 heads,
    250,112 rows; about 1.23B weights."""
    import torch
    from transformers import MT5Config, MT5ForConditionalGeneration

    with torch.device("meta"):
        model = MT5ForConditionalGeneration(MT5Config(**MT5_LARGE))
    assert (len(model.encoder.block), len(model.decoder.block), model.config.d_model) == (24, 24, 1024)
    assert model.encoder.block[0].layer[1].DenseReluDense.wi_0.out_features == 2816
    assert model.lm_head.out_features == 250_112 and model.lm_head.weight is not model.shared.weight
    assert 1_220_000_000 < sum(p.numel() for p in model.parameters()) < 1_240_000_000


def test_padding_is_counted_in_input_order_and_length_sorted():
    # batches of 2: input order pads (1,9)->18 and (2,8)->16; sorted (9,8)->18, (2,1)->4
    assert padded_tokens([1, 9, 2, 8], 2) == {"real": 20, "input_order": 34, "length_sorted": 22}


def test_table_names_each_precision_its_speedup_drift_and_the_padding():
    row = {"segments_per_s": 0.5, "seconds": 8.0, "count": 4, "cpu_share": 0.9}
    drift = {"p50_abs": 0.01, "p95_abs": 0.02, "p99_abs": 0.03, "max_abs": 0.04, "system_delta": -0.005}
    result = {"model": "MetricX-24 hybrid-large-sized", "segments": 4, "batch_size": 8, "threads": 2,
              "metricx_32": row, "metricx_bf16": {**row, "segments_per_s": 1.5},
              "speedup_vs_32": {"metricx_32": 1.0, "metricx_bf16": 3.0}, "drift_vs_32": {"metricx_bf16": drift},
              "input_tokens": {"real": 20, "input_order": 34, "length_sorted": 22}}
    table = format_table(result)
    assert "metricx_bf16" in table and "3.00" in table and "0.0100 / 0.0200 / 0.0300 / 0.0400" in table
    assert "-0.0050" in table and "34 in input order, 22 length-sorted (20 real)" in table
