"""``python -m mteval.commands.install_torch``: install the torch build this machine wants (CPU or CUDA), on purpose.

A bare ``pip install torch`` from PyPI is the CUDA build on Linux: several GB of ``nvidia-*`` and
``triton`` wheels a machine without an NVIDIA GPU never uses. PyTorch publishes CPU-only wheels on
its own index (https://pytorch.org/get-started/locally/), so ``make venv`` asks for those where
there is no GPU. Standard library only: this runs before anything else is installed.
"""
from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

#: PyTorch's CPU-only wheel index (used as ``--index-url`` for torch alone).
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
#: Seconds to wait for that index before falling back to the default one.
PROBE_TIMEOUT = 3.0
VARIANTS = ("auto", "cpu", "cuda")


def has_nvidia_gpu() -> bool:
    """An NVIDIA driver is installed: ``nvidia-smi`` on the PATH or the kernel module's /proc entry."""
    return shutil.which("nvidia-smi") is not None or Path("/proc/driver/nvidia").exists()


def choose_variant(requested: str, gpu: bool) -> str:
    """``cpu`` or ``cuda``: what TORCH_VARIANT asks for, or (``auto``) what the machine has."""
    requested = (requested or "auto").strip().lower()
    if requested not in VARIANTS:
        raise SystemExit(f"install_torch: error: TORCH_VARIANT={requested!r} is not one of {', '.join(VARIANTS)}")
    if requested == "auto":
        return "cuda" if gpu else "cpu"
    return requested


def index_reachable(url: str = CPU_INDEX, timeout: float = PROBE_TIMEOUT) -> bool:
    """One HEAD request to the torch page of the index, bounded by ``timeout`` (proxies from the environment apply)."""
    try:
        with urllib.request.urlopen(urllib.request.Request(f"{url}/torch/", method="HEAD"), timeout=timeout):
            return True
    except (OSError, ValueError):  # URLError, timeouts and HTTP errors are all OSErrors
        return False


def pip_command(python: str, torch: str, variant: str, reachable: bool) -> tuple[list[str], str]:
    """The pip command that installs ``torch`` and the one line that says which build it is."""
    cmd = [python, "-m", "pip", "install", "--quiet", torch]
    if variant == "cuda":
        return cmd, f"torch: the default (CUDA) build of {torch} from the package index"
    if reachable:
        return [*cmd, "--index-url", CPU_INDEX], f"torch: the CPU-only build of {torch} from {CPU_INDEX}"
    return cmd, (f"torch: note: {CPU_INDEX} cannot be reached; {torch} comes from the default index instead "
                 "(the CUDA build on Linux, unless pip finds a CPU wheel there or in its find-links)")


def main(argv: list[str] | None = None) -> int:
    """Print the choice, then run pip (or only print its command with ``--dry-run``)."""
    p = argparse.ArgumentParser(prog="install_torch", description=__doc__.splitlines()[0])
    p.add_argument("--python", default=sys.executable, help="the interpreter whose environment gets torch")
    p.add_argument("--torch", default="torch", help="the requirement, e.g. torch==2.13.0")
    p.add_argument("--variant", default=os.environ.get("TORCH_VARIANT", "auto"), choices=VARIANTS,
                   help="cpu, cuda, or auto: cuda where an NVIDIA driver is present (default: $TORCH_VARIANT or auto)")
    p.add_argument("--dry-run", action="store_true", help="print the pip command instead of running it")
    args = p.parse_args(argv)
    variant = choose_variant(args.variant, has_nvidia_gpu())
    cmd, line = pip_command(args.python, args.torch, variant, variant == "cpu" and index_reachable())
    print(line)
    if args.dry_run:
        print(shlex.join(cmd))
        return 0
    return subprocess.call(cmd)


if __name__ == "__main__":
    sys.exit(main())
