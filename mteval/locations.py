"""Where conf/ and the outputs are: the checkout in an editable install, the wheel's copy and the working directory otherwise."""
from __future__ import annotations

from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

from mteval.provenance import ROOT

#: Where a wheel puts its copy of conf/ (``[tool.setuptools.data-files]`` in pyproject.toml), under the install prefix.
WHEEL_CONF = "share/mteval/conf"


def in_checkout() -> bool:
    """The package is imported from a source checkout (conf/ beside it), as the Makefile's editable install does."""
    return (ROOT / "conf" / "config.yaml").is_file()


def conf_dir() -> Path:
    """The config directory Hydra reads: the checkout's conf/, else the copy the installed wheel carries."""
    if in_checkout():
        return ROOT / "conf"
    try:
        files = distribution("mteval").files or []
    except PackageNotFoundError:
        files = []
    for path in files:
        if path.as_posix().endswith(f"{WHEEL_CONF}/config.yaml"):
            return Path(path.locate()).resolve().parent
    return ROOT / "conf"  # not found: Hydra's error then names this path


def project_dir() -> Path:
    """Where ``results/`` and ``data/`` live: the checkout, or (installed from a wheel) the working directory."""
    return ROOT if in_checkout() else Path.cwd()
