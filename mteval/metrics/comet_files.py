"""The files a COMET checkpoint loads: the checkpoint itself, the encoder its hparams name, fixed tokenizers."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from mteval.hub.availability import ModelRef, cached_file, is_hub_id
from mteval.hub.loading import model_error

#: Where a COMET repository keeps its checkpoint (and, beside it, ``hparams.yaml`` one level up).
CHECKPOINT_FILE = "checkpoints/model.ckpt"

# Tokenizers unbabel-comet loads by a fixed name whatever the checkpoint says, keyed by the
# checkpoint's ``encoder_model``: its MiniLM encoder (Cometinho, Unbabel/eamt22-cometinho-da, our
# comet_small) always loads xlm-roberta-base's tokenizer (comet/encoders/minilm.py, unbabel-comet 2.2.7).
FIXED_TOKENIZERS = {"MiniLM": "xlm-roberta-base"}


def checkpoint_path(model: str, revision: str | None = None) -> Path:
    """Find a COMET checkpoint: a ``.ckpt`` file, a model directory, or a Hub id (downloaded or cached).

    We call ``snapshot_download`` ourselves rather than ``comet.download_model``, which turns
    every failure (offline, gated, typo) into the same "not supported by COMET" KeyError.
    """
    path = Path(model)
    if path.suffix == ".ckpt" and path.is_file():
        return path
    if (path / CHECKPOINT_FILE).is_file():
        return path / CHECKPOINT_FILE
    from huggingface_hub import snapshot_download

    offline = os.environ.get("HF_HUB_OFFLINE") == "1"
    try:
        root = snapshot_download(repo_id=model, revision=revision, local_files_only=offline)
    except Exception as err:  # noqa: BLE001 - every Hub failure becomes one readable line
        raise model_error(model, err) from err
    return Path(root) / CHECKPOINT_FILE


def _hparams(checkpoint_dir: Path) -> dict[str, Any]:
    import yaml

    path = checkpoint_dir / "hparams.yaml"
    return (yaml.safe_load(path.read_text(encoding="utf-8")) or {}) if path.is_file() else {}


def comet_dependencies(checkpoint_dir: Path) -> list[tuple[str, str]]:
    """Every Hub repository a COMET checkpoint loads besides itself, as (repo, file that must be cached):
    the encoder its ``hparams.yaml`` names, and any tokenizer unbabel-comet loads by a fixed name."""
    hparams = _hparams(checkpoint_dir)
    out = []
    encoder = hparams.get("pretrained_model")
    if isinstance(encoder, str) and is_hub_id(encoder):
        out.append((encoder, "config.json"))
    fixed = FIXED_TOKENIZERS.get(str(hparams.get("encoder_model")))
    if fixed:
        out.append((fixed, "tokenizer.json"))
    return out


def comet_models(model: str, revision: str | None, named_by: str) -> list[ModelRef]:
    """What a COMET metric loads: the checkpoint and, once its ``hparams.yaml`` is at hand (a local
    directory, or the cached Hub repository), the encoder and tokenizers it names."""
    refs: list[ModelRef] = []
    if is_hub_id(model):
        refs.append(ModelRef(model, revision, "comet", named_by, CHECKPOINT_FILE))
        hparams = cached_file(model, revision, "hparams.yaml")
        root = hparams.parent if hparams is not None else None
    else:
        path = Path(model)
        root = path.parents[1] if path.suffix == ".ckpt" else path
    for repo, filename in comet_dependencies(root) if root is not None else []:
        what = "encoder" if filename == "config.json" else "tokenizer"
        refs.append(ModelRef(repo, None, "encoder", f"the {what} COMET checkpoint '{model}' ({named_by}) builds on",
                             filename))
    return refs
