"""What every benchmark shares: the WMT22 inputs it draws, a wall/CPU clock, the process setup, the CPU described."""
from __future__ import annotations

import logging
import os
import platform
import random
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from mteval.bench.models import source_file
from mteval.files import write_json
from mteval.provenance import package_versions
from mteval.metrics.precision import CPU_BF16_FLAGS, cpu_flags
from mteval.systems.batching import available_cores


def load_inputs(n: int, *, seed: int = 0, min_words: int = 5, max_words: int = 50) -> list[int]:
    """Line indices of ``n`` WMT22 en-zh test sentences of ordinary length, drawn with a fixed seed."""
    lines = source_file().read_text(encoding="utf-8").splitlines()
    first = {line.strip(): i for i, line in reversed(list(enumerate(lines)))}  # distinct texts only
    usable = sorted(i for line, i in first.items() if min_words <= len(line.split()) <= max_words)
    return sorted(random.Random(seed).sample(usable, min(n, len(usable))))


def lines_at(path: Path, idx: Sequence[int]) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [lines[i].strip() for i in idx]


class Clock:
    """Sums wall-clock and process CPU seconds over several timed calls."""

    def __init__(self) -> None:
        self.wall = 0.0
        self.cpu = 0.0

    def __call__(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Return ``fn(*args)``, adding the time it took."""
        wall, cpu = time.perf_counter(), time.process_time()
        out = fn(*args)
        self.wall += time.perf_counter() - wall
        self.cpu += time.process_time() - cpu
        return out

    def rate(self, count: int, unit: str, threads: int) -> dict[str, float]:
        """Throughput, plus the CPU share the process got: well under 1 means other load competed."""
        return {unit: round(count / self.wall, 2), "seconds": round(self.wall, 3), "count": count,
                "cpu_share": round(self.cpu / (self.wall * threads), 2)}


def bench_process_setup() -> None:
    """The benchmark's process settings, in the parent and in every path's own process alike."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # everything is built locally
    # Every output runs to max_new_tokens by design; the backends' cut-off warnings are noise here.
    logging.getLogger("mteval.systems").setLevel(logging.ERROR)
    from mteval.hub.cpu_speed import reproducible_mkl

    reproducible_mkl()  # before any matrix product, so every path (the naive loop too) runs alike


def cpu_description() -> dict[str, Any]:
    """Cores, CPU model and the vector extensions that decide int8 and fp32 GEMM speed."""
    info: dict[str, Any] = {"cpu_cores": available_cores(), "platform": platform.platform()}
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    except OSError:  # not Linux
        return {**info, "cpu_model": platform.processor()}
    model = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
    flags = re.search(r"^flags\s*:\s*(.+)$", text, re.MULTILINE)
    wanted = {"avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_int8"}
    return {**info, "cpu_model": model.group(1) if model else platform.processor(),
            "isa": sorted(wanted & set(flags.group(1).split())) if flags else []}


def cpu_family() -> dict[str, str]:
    """The CPU's vendor, family and model numbers (``model name`` alone can be as vague as "AMD EPYC")."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    except OSError:
        return {}
    found = dict(re.findall(r"^(vendor_id|cpu family|model)\s*:\s*(.+)$", text, re.MULTILINE))
    return {key.replace(" ", "_"): value.strip() for key, value in found.items()}


def machine(load_start: float) -> dict[str, Any]:
    """The CPU (model, vector extensions, family numbers, bf16 flags, torch's capability) and the 1-minute
    load average at the start (``load_start``) and now: what a bench's numbers depend on."""
    import torch

    return {**cpu_description(), **cpu_family(), "bf16_flags": sorted(set(CPU_BF16_FLAGS) & cpu_flags()),
            "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "load_average_1m": {"start": load_start, "end": round(os.getloadavg()[0], 2)}}


def write_result(result: dict[str, Any], out: str | Path, load_start: float, table: str) -> None:
    """Add the machine (:func:`machine`) and package versions to ``result``, write it to ``out`` as JSON, and
    print ``table``, the CPU and its load."""
    result["machine"] = machine(load_start)
    result["versions"] = package_versions()
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    write_json(out, result)
    m = result["machine"]
    print(table)
    print(f"CPU: {m.get('cpu_model')} ({', '.join(m.get('isa', []))}), {m['cpu_cores']} cores; 1-min load "
          f"{m['load_average_1m']['start']} at start, {m['load_average_1m']['end']} at end")
    print(f"written: {out}")
