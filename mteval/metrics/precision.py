"""The precision a neural metric's setting resolves to on this device (auto, 32, bf16, 16, int8), or a clear refusal."""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from mteval.errors import ConfigError

#: CPU flags (Linux /proc/cpuinfo) with bfloat16 matrix instructions: AVX-512 BF16 (Cooper Lake,
#: Sapphire Rapids, AMD Zen 4 and later) or AMX-BF16 (Sapphire Rapids and later). Without them
#: oneDNN emulates bf16 through fp32, slower than plain fp32, so bf16 is refused there.
CPU_BF16_FLAGS = ("avx512_bf16", "amx_bf16")

#: System-level COMET delta against fp32 of each reduced CPU precision, measured on the COMET-22-sized
#: bench (``python -m mteval.commands.bench comet``: XLM-R large, random weights, 48 WMT22 en-zh
#: segments, results/bench/comet.json; Intel Xeon with AVX-512 VNNI/BF16 and AMX, 2 shared cores; issue 21
#: item 3). int8 (the encoder's linear layers dynamically quantised, :func:`quantize_encoder`) ran 2.31x
#: fp32 there (bf16 1.85x), per-segment |drift| p50 0.0017 / p95 0.0060 / max 0.0090 against bf16's
#: 0.0004 / 0.0012 / 0.0018: inside the issue's 0.001 system-level bound, but not within bf16's delta,
#: so ``auto`` does not take int8 (:func:`int8_earns_auto`). Random weights: see docs/speed.md.
COMET_SYSTEM_DELTA = {"bf16-mixed": 0.000005, "int8": 0.000465}


@lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags from /proc/cpuinfo (empty where there is none, e.g. macOS)."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    except OSError:
        return frozenset()
    found = re.search(r"^flags\s*:\s*(.+)$", text, re.MULTILINE)
    return frozenset(found.group(1).split()) if found else frozenset()


def cpu_has_bf16() -> bool:
    """True where the CPU multiplies bfloat16 matrices natively.

    ``torch.backends.cpu.get_cpu_capability()`` only says ``AVX512`` (it does not tell BF16 apart),
    so the flags decide; without /proc/cpuinfo, oneDNN's own check is asked.
    """
    flags = cpu_flags()
    if flags:
        return any(f in flags for f in CPU_BF16_FLAGS)
    import torch

    check = getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", None)
    return bool(check and check())


def int8_earns_auto(deltas: dict[str, float]) -> bool:
    """Whether int8 may be ``auto``'s choice on a CPU without bf16: only if its measured system-level
    delta against fp32 is within the bf16 path's (issue 21 item 3), never on speed alone."""
    return abs(deltas["int8"]) <= abs(deltas["bf16-mixed"])


def resolve_precision(setting: str, device: str, *, auto_int8: bool = False) -> str:
    """``32``, ``bf16-mixed``, ``16-mixed`` or ``int8`` for a canonical setting (``auto``, ``32``,
    ``bf16-mixed``, ``16-mixed``, ``int8``) on ``cpu`` or ``cuda``.

    ``auto``: bf16 on a CPU with AVX-512 BF16 or AMX and on a GPU with bf16 (Ampere and later),
    fp16 on older GPUs; on a CPU without bf16, int8 where ``auto_int8`` (the metric's measured rule,
    :func:`int8_earns_auto`), else 32. An explicit reduced precision the device cannot run is refused.
    """
    if setting == "32":
        return "32"
    if setting == "int8" and device != "cpu":
        raise ConfigError("precision=int8 runs on CPU only (torch's dynamic quantisation has no GPU kernels); "
                          "on a GPU use auto, bf16, 16 or 32")
    if device == "cpu":
        if setting == "int8":
            return "int8"
        if setting == "16-mixed":
            raise ConfigError("precision=16-mixed needs a GPU; on CPU use bf16 (where the CPU has "
                              "AVX-512 BF16 or AMX), auto or 32")
        if cpu_has_bf16():
            return "bf16-mixed"
        if setting == "auto":
            return "int8" if auto_int8 else "32"
        raise ConfigError("precision=bf16: this CPU has no bfloat16 instructions (no avx512_bf16 or amx_bf16 "
                          "flag in /proc/cpuinfo), where bf16 runs slower than fp32; use precision=auto or 32")
    import torch

    try:  # emulated bf16 (pre-Ampere GPUs) is slower than fp16: only native support counts
        bf16 = torch.cuda.is_bf16_supported(including_emulation=False)
    except TypeError:  # torch < 2.3 has no such argument and reports native support only
        bf16 = torch.cuda.is_bf16_supported()
    if setting == "auto":
        return "bf16-mixed" if bf16 else "16-mixed"
    if setting == "bf16-mixed" and not bf16:
        raise ConfigError("precision=bf16-mixed: this GPU has no bfloat16; use 16-mixed, auto or 32")
    return setting


def quantize_encoder(module: Any) -> None:
    """Replace every ``nn.Linear`` in ``module`` (in place) by a dynamically quantised int8 one: weights
    int8 per output channel, activations quantised per batch (torch.ao.quantization.quantize_dynamic; x86's
    FBGEMM/oneDNN use VNNI where the CPU has it). Embeddings and layer norms stay fp32, outputs are fp32.
    Per channel, not torch's per-tensor default: on 16 WMT22 segments of the COMET-22-sized bench model
    per-tensor drifted 0.0077 per segment on average (system +0.0076), per channel 0.0030 (system -0.0014).

    torch 2.10+ marks this API deprecated in favour of torchao (pytorch/ao#2259) but ships it working;
    its warnings are silenced here, once per load, as they say nothing about this model.
    """
    import warnings

    import torch
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        quantize_dynamic(module, {torch.nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8, inplace=True)


def autocast(precision: str, device: str) -> Any:
    """The autocast region of a resolved precision on ``cpu`` or ``cuda``: none for 32 or int8, else bf16 or fp16
    (a setting the device lacks was refused by :func:`resolve_precision`)."""
    import contextlib

    import torch

    if precision in ("32", "int8"):
        return contextlib.nullcontext()
    return torch.autocast(device_type=device, dtype=torch.bfloat16 if precision == "bf16-mixed" else torch.float16)
