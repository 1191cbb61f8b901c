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


@pytest.mark.parametrize("flags, deltas, expected", [
    ({"avx2", "avx512_vnni"}, {"bf16-mixed": 0.0003, "int8": 0.0001}, "int8"),  # no bf16, int8 as close: int8
    ({"avx2", "avx512_vnni"}, {"bf16-mixed": 0.0003, "int8": -0.0003}, "int8"),  # |delta| compared, equal passes
    ({"avx2", "avx512_vnni"}, {"bf16-mixed": 0.0003, "int8": -0.002}, "32"),  # no bf16, int8 drifts more: fp32
    ({"avx512_bf16", "amx_int8"}, {"bf16-mixed": 0.0003, "int8": 0.0}, "bf16-mixed"),  # bf16 CPU: never int8
])
def test_auto_takes_int8_only_without_bf16_and_within_bf16s_measured_delta(monkeypatch, flags, deltas, expected):
    """Issue 21 item 3: the rule, on fake CPU flags and fake measurements."""
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset(flags))
    rule = precision.int8_earns_auto(deltas)
    assert precision.resolve_precision("auto", "cpu", auto_int8=rule) == expected


def test_the_measured_comet_deltas_decide_auto_on_a_cpu_without_bf16(monkeypatch):
    """COMET's auto follows the deltas recorded from the bench, whichever way they fall."""
    from mteval.metrics.comet import Comet

    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset({"avx2", "avx512_vnni"}))
    within = abs(precision.COMET_SYSTEM_DELTA["int8"]) <= abs(precision.COMET_SYSTEM_DELTA["bf16-mixed"])
    assert Comet(precision="auto", device="cpu").resolved_precision() == ("int8" if within else "32")


@pytest.mark.parametrize("flags", [{"avx2"}, {"avx512_bf16"}])
def test_int8_is_accepted_on_any_cpu(monkeypatch, flags):
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset(flags))
    assert precision.resolve_precision("int8", "cpu") == "int8"


def test_int8_on_a_gpu_is_refused_in_one_line_naming_the_setting():
    from mteval.metrics.comet import Comet

    metric = Comet(precision="int8")
    metric._device = lambda: "cuda"  # a GPU, without needing one
    with pytest.raises(ConfigError, match=r"^metrics\.comet\.precision=int8 runs on CPU only .*auto, bf16, 16 or 32\)?$") as err:
        metric.preflight()
    assert "\n" not in str(err.value) and err.value.exit_code == 2
