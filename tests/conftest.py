"""Shared fixtures: offline environment, Hydra compose, tiny models built once per session."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# Tests never touch the network: the Hub is unreachable here and a test that needs it is broken.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
# The local mirror of WMT22 in ../shared (other people's files: read here, never committed).
# MTEVAL_SHARED points elsewhere when the checkout does not sit beside ../shared.
SHARED = Path(os.environ.get("MTEVAL_SHARED", ROOT.parent / "shared"))
WMT22_MIRROR = SHARED / "data" / "wmt22"
WMT_EN_ZH = WMT22_MIRROR / "en-zh"
WMT_ZH_EN = WMT22_MIRROR / "zh-en"
MTEVAL = str(Path(sys.executable).parent / "mteval")
# Test sets are read through sacrebleu from a cache laid out from the mirror (pytest_configure);
# nothing may download, so an uncached test set fails fast instead of reaching for the network.
os.environ["MTEVAL_OFFLINE"] = "1"
_SACREBLEU_CACHE: str | None = None


def pytest_configure(config) -> None:
    """Lay out a sacrebleu cache with WMT22 en-zh/zh-en from the mirror and point $SACREBLEU at it.

    Done before collection, so subprocesses (the CLI tests) and sacrebleu itself, which reads
    $SACREBLEU at import, all see it.
    """
    import tempfile

    from mteval.testing.sacrebleu_mirror import lay_out

    global _SACREBLEU_CACHE
    if not (WMT_EN_ZH / "wmttest2022.en-zh.all.xml").is_file():
        raise pytest.UsageError(f"the WMT22 mirror is missing at {WMT22_MIRROR}: clone beside ../shared "
                                "or set MTEVAL_SHARED")
    _SACREBLEU_CACHE = tempfile.mkdtemp(prefix="mteval-sacrebleu-")
    os.environ["SACREBLEU"] = str(lay_out(WMT22_MIRROR, Path(_SACREBLEU_CACHE)))
    # An empty data cache: no arXiv original a developer fetched reaches the tests unless one puts it there.
    os.environ["MTEVAL_DATA"] = str(Path(_SACREBLEU_CACHE) / "mteval-data")


def pytest_unconfigure(config) -> None:
    import shutil

    if _SACREBLEU_CACHE:
        shutil.rmtree(_SACREBLEU_CACHE, ignore_errors=True)


def sacrebleu_field(langpair: str, field: str) -> Path:
    """sacrebleu's text file for one field of WMT22 (``src``, ``ref:A``, a system name) in the test cache."""
    from mteval.data.sacrebleu_cache import entry, read_fields

    return read_fields(entry("wmt22", langpair), langpair)[field]


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory) -> dict[str, Path]:
    """Every tiny model (Marian, NLLB, M2M100, chat LM, COMET, CometKiwi), built once per session.

    MTEVAL_TINY_MODELS points at a persistent directory to reuse builds across sessions.
    """
    from mteval.testing.tiny_models import build_all

    root = os.environ.get("MTEVAL_TINY_MODELS")
    return build_all(Path(root) if root else tmp_path_factory.mktemp("tiny_models"))


@pytest.fixture
def compose():
    """Compose the project config with overrides, as the CLI would (no run dir is created)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    import mteval.commands.run  # noqa: F401 - registers the mteval_root resolver

    def _compose(*overrides: str):
        with initialize_config_dir(version_base="1.3", config_dir=str(ROOT / "conf")):
            return hydra_compose(config_name="config", overrides=list(overrides), return_hydra_config=True)

    return _compose


@pytest.fixture(autouse=True)
def _no_log_handler_on_a_closed_stream():
    """A test that runs ``mteval`` in-process lets Hydra attach a console handler to that test's captured
    stdout; once the capture closes, the next test's log records would print "Logging error" tracebacks."""
    import logging

    yield
    root = logging.getLogger()
    for handler in list(root.handlers):
        stream = getattr(handler, "stream", None)
        if getattr(stream, "closed", False):
            root.removeHandler(handler)
