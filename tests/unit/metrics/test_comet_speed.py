"""COMET at the hardware's speed: length batching, resolved precision, one model and one set of source and
reference embeddings shared by a sweep's runs; every fast path scores as comet's own ``predict`` does."""
from __future__ import annotations

import random

import pytest

from mteval.errors import ConfigError
from mteval.metrics import precision
from mteval.metrics.comet_embed import length_batches

pytestmark = pytest.mark.filterwarnings("ignore:.*LeafSpec")


@pytest.mark.parametrize("lengths, size, batches", [
    ([5, 1, 4, 2, 3], 2, [[1, 3], [4, 2], [0]]),
    ([3, 3, 1], 2, [[2, 0], [1]]),  # ties keep input order
    ([], 4, []),
])
def test_length_batches_table(lengths, size, batches):
    assert length_batches(lengths, size) == batches


@pytest.mark.parametrize("seed", range(5))
def test_length_batches_pad_no_more_than_input_order(seed):
    rng = random.Random(seed)
    lengths = [rng.randint(1, 120) for _ in range(rng.randint(1, 90))]

    def padding(batches):
        return sum(max(lengths[i] for i in b) * len(b) - sum(lengths[i] for i in b) for b in batches)

    sorted_batches = length_batches(lengths, 8)
    assert sorted(i for b in sorted_batches for i in b) == list(range(len(lengths)))
    assert all(len(b) <= 8 for b in sorted_batches)
    assert padding(sorted_batches) <= padding([list(range(i, min(i + 8, len(lengths))))
                                               for i in range(0, len(lengths), 8)])


@pytest.mark.parametrize("setting, flags, expected", [
    ("auto", {"avx512f", "avx512_bf16"}, "bf16-mixed"),
    ("auto", {"amx_bf16", "amx_tile"}, "bf16-mixed"),
    ("auto", {"avx2", "avx512f"}, "32"),
    ("bf16-mixed", {"avx512_bf16"}, "bf16-mixed"),
    ("32", {"avx512_bf16"}, "32"),
])
def test_cpu_precision_resolves_from_the_cpu_flags(monkeypatch, setting, flags, expected):
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset(flags))
    assert precision.resolve_precision(setting, "cpu") == expected


@pytest.mark.parametrize("setting, flags, message", [
    ("bf16-mixed", {"avx2", "avx512f"}, "no bfloat16 instructions"),
    ("16-mixed", {"avx512_bf16"}, "16-mixed needs a GPU"),
])
def test_reduced_precision_the_cpu_lacks_is_refused(monkeypatch, setting, flags, message):
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset(flags))
    with pytest.raises(ConfigError, match=message):
        precision.resolve_precision(setting, "cpu")


@pytest.mark.parametrize("setting, native_bf16, expected", [
    ("auto", True, "bf16-mixed"), ("auto", False, "16-mixed"), ("16-mixed", True, "16-mixed"),
])
def test_gpu_precision_resolves_from_bf16_support(monkeypatch, setting, native_bf16, expected):
    import torch

    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: native_bf16)
    assert precision.resolve_precision(setting, "cuda") == expected


def test_bf16_on_a_gpu_without_it_is_refused(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: False)
    with pytest.raises(ConfigError, match="no bfloat16; use 16-mixed"):
        precision.resolve_precision("bf16-mixed", "cuda")
