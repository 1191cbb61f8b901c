"""The encoder precision a COMET setting resolves to on this device (auto, 32, bf16, 16), or a clear refusal."""
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


def resolve_precision(setting: str, device: str) -> str:
    """``32``, ``bf16-mixed`` or ``16-mixed`` for a canonical setting (``auto``, ``32``, ``bf16-mixed``,
    ``16-mixed``) on ``cpu`` or ``cuda``.

    ``auto``: bf16 on a CPU with AVX-512 BF16 or AMX and on a GPU with bf16 (Ampere and later),
    fp16 on older GPUs, else 32. An explicit reduced precision the device cannot run is refused.
    """
    if setting == "32":
        return "32"
    if device == "cpu":
        if setting == "16-mixed":
            raise ConfigError("precision=16-mixed needs a GPU; on CPU use bf16 (where the CPU has "
                              "AVX-512 BF16 or AMX), auto or 32")
        if cpu_has_bf16():
            return "bf16-mixed"
        if setting == "auto":
            return "32"
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


def autocast(precision: str, device: str) -> Any:
    """The autocast region of a resolved precision on ``cpu`` or ``cuda``: none for 32, else bf16 or fp16
    (a setting the device lacks was refused by :func:`resolve_precision`)."""
    import contextlib

    import torch

    if precision == "32":
        return contextlib.nullcontext()
    return torch.autocast(device_type=device, dtype=torch.bfloat16 if precision == "bf16-mixed" else torch.float16)
