"""The models `make bench-eval` times: the default config's system and metrics at their real architectures
(random weights), or the tests' tiny ones; each under the key the bench's Hub cache names it by."""
from __future__ import annotations

from pathlib import Path

from mteval.bench.models import build_bench_spm, build_comet_large, build_opus_mt_sized
from mteval.bench.metricx_model import build_metricx_large, build_mt5_bench_tokenizer
from mteval.testing.tiny_comet import build_comet, build_xlmr_encoder
from mteval.testing.tiny_metricx import build_metricx
from mteval.testing.tiny_models import build_marian
from mteval.testing.tiny_spm import build_sentencepiece

#: The Hub ids the bench's own Hub cache gives its models. MetricX's tokenizer stays a local directory: a
#: Hub tokenizer must ship spiece.model, as google/mt5-xl does, and the bench's is a tokenizer.json (its own
#: directory: a local tokenizer is identified by a digest of its directory, the model's is 4.9 GB).
HUB_IDS = {"system": "mteval-bench/opus-mt-en-zh-sized", "comet": "mteval-bench/wmt22-comet-da-sized",
           "metricx": "mteval-bench/metricx-24-hybrid-large-sized"}


def real_size_models(root: Path) -> dict[str, Path]:
    """opus-mt-en-zh's Marian, a COMET-22-sized (XLM-R large) COMET and a MetricX-24-large-sized mT5."""
    spm = build_bench_spm(root / "spm")
    return {"system": build_opus_mt_sized(root / "opus-mt-en-zh-sized", spm), "comet": build_comet_large(root),
            "metricx": build_metricx_large(root),  # `make bench`'s, its tokenizer beside it and on its own:
            "metricx_tokenizer": build_mt5_bench_tokenizer(root / "mt5-bench-tokenizer", spm)}


def tiny_models(root: Path) -> dict[str, Path]:
    """The tests' tiny Marian, COMET and MetricX: the same code paths in seconds (for tests)."""
    spm = build_sentencepiece(root / "spm")
    return {"system": build_marian(root / "marian", spm_dir=spm),
            "comet": build_comet(root / "comet", build_xlmr_encoder(root / "xlmr", spm_dir=spm)),
            "metricx": build_metricx(root / "metricx", root / "mt5-tokenizer"),
            "metricx_tokenizer": root / "mt5-tokenizer"}
