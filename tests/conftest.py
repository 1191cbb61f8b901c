"""Shared fixtures and tiers: offline environment, Hydra compose, tiny models, WMT22 text, automatic markers.

Markers that are facts are set here, not by hand: a test that uses ``tiny_models`` (directly or through
another fixture) is ``slow``; a test that uses ``wmt22`` is ``wmt22``. A ``wmt22`` test runs when WMT22
text can be had (mteval.testing.wmt22) and is skipped with one reason otherwise, except with CI=true,
where the data must be there and its absence fails the run. A ``gpu`` test is skipped without CUDA.
"""
from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from mteval.data.sacrebleu_cache import cache_root
from tests.helpers import ROOT, WMT22_MIRROR

# Tests never touch the network: the Hub is unreachable here and a test that needs it is broken.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Test sets are read through sacrebleu from the session's own cache (pytest_configure); nothing else
# may download, so an uncached test set fails fast instead of reaching for the network.
os.environ["MTEVAL_OFFLINE"] = "1"
# The user's sacrebleu cache, read before the session points $SACREBLEU at its own.
USER_SACREBLEU = cache_root()
_SESSION: dict[str, object] = {}


def pytest_configure(config) -> None:
    """Point $SACREBLEU at an empty cache of the session's own (filled with WMT22 on first need) and
    $MTEVAL_DATA at an empty data cache, before collection, so subprocesses (the CLI tests) and
    sacrebleu itself, which reads $SACREBLEU at import, see them."""
    tmp = tempfile.mkdtemp(prefix="mteval-sacrebleu-")
    _SESSION["tmp"] = tmp
    os.environ["SACREBLEU"] = tmp
    # An empty data cache: no arXiv original a developer fetched reaches the tests unless one puts it there.
    os.environ["MTEVAL_DATA"] = str(Path(tmp) / "mteval-data")


def pytest_unconfigure(config) -> None:
    if _SESSION.get("tmp"):
        shutil.rmtree(str(_SESSION["tmp"]), ignore_errors=True)


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def _need_wmt22() -> None:
    """Fill the session's sacrebleu cache with WMT22 once; skip (or, in CI, fail) when no source has it."""
    from mteval.testing.wmt22 import NEEDS, provide

    if "wmt22" not in _SESSION:
        _SESSION["wmt22"] = provide(Path(str(_SESSION["tmp"])), mirror=WMT22_MIRROR, user_cache=USER_SACREBLEU)
    if _SESSION["wmt22"] is None:
        if _in_ci():
            pytest.fail(f"CI=true and the data is missing: {NEEDS}", pytrace=False)
        pytest.skip(NEEDS)


def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        names = getattr(item, "fixturenames", ())
        if "tiny_models" in names:
            item.add_marker(pytest.mark.slow)
        if "wmt22" in names or "wmt22_human" in names:
            item.add_marker(pytest.mark.wmt22)


def pytest_runtest_setup(item) -> None:
    if item.get_closest_marker("wmt22"):
        _need_wmt22()
    if item.get_closest_marker("gpu"):
        import torch

        if not torch.cuda.is_available():
            pytest.skip("needs a CUDA GPU (torch.cuda.is_available() is False)")


@pytest.fixture(autouse=True)
def _root_logging_as_found():
    """A run in this process (Hydra's job logging) hangs a handler on that test's captured stderr and one on a
    file in its run dir onto the root logger; a later test would log into the closed capture ("Logging error").
    Each test leaves the root logger's handlers and level as it found them (pytest's own handlers aside)."""
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in before and type(handler).__module__ != "_pytest.logging":
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


@pytest.fixture(scope="session")
def wmt22() -> Path:
    """WMT22 en-zh and zh-en in the session's sacrebleu cache (read them with tests.helpers); its root."""
    _need_wmt22()
    return Path(str(_SESSION["tmp"]))


@pytest.fixture(scope="session")
def wmt22_human(wmt22) -> Path:
    """The WMT22 zh-en human scores of the mirror (``data/wmt22/humaneval/zh-en``): only a mirror has them."""
    human = WMT22_MIRROR / "humaneval" / "zh-en"
    if not (human / "ad-sys-scores-zh-en.csv").is_file():
        reason = f"needs the WMT22 human scores of a mirror ({human}): set MTEVAL_SHARED to a mirror"
        if _in_ci():
            pytest.fail(f"CI=true and the data is missing: {reason}", pytrace=False)
        pytest.skip(reason)
    return human


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
