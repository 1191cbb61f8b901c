"""Provenance of a result: git commit, package versions, host facts."""
from __future__ import annotations

import platform
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("mteval", "sacrebleu", "unbabel-comet", "transformers", "torch", "ctranslate2", "hydra-core")


def package_versions() -> dict[str, str | None]:
    """Installed versions of the packages a score depends on."""
    out: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def git_revision() -> str | None:
    """The commit of the working tree (with ``-dirty`` when it has changes), or None outside git."""
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=5)
        if rev.returncode != 0:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return rev.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def environment() -> dict[str, Any]:
    """Git commit, package versions and host facts for ``scores.json``."""
    return {"git": git_revision(), "versions": package_versions(), "python": platform.python_version(),
            "platform": platform.platform()}
