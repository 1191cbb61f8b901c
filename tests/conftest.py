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
WMT_EN_ZH = DATA / "wmt22" / "en-zh"
WMT_ZH_EN = DATA / "wmt22" / "zh-en"
MTEVAL = str(Path(sys.executable).parent / "mteval")


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

    import mteval.app  # noqa: F401 - registers the mteval_root resolver

    def _compose(*overrides: str):
        with initialize_config_dir(version_base="1.3", config_dir=str(ROOT / "conf")):
            return hydra_compose(config_name="config", overrides=list(overrides), return_hydra_config=True)

    return _compose
