"""Can this run get every model it names? Answered before torch loads: cached, offline, or the Hub unreachable.

Shared by the pipeline (checked before translating) and ``mteval-prefetch`` (what to download);
it sits below both, so neither imports the other.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

# Tokenizers unbabel-comet loads by a fixed name whatever the checkpoint says, keyed by the
# checkpoint's ``encoder_model``: its MiniLM encoder (Cometinho, Unbabel/eamt22-cometinho-da, our
# comet_small) always loads xlm-roberta-base's tokenizer (comet/encoders/minilm.py, unbabel-comet 2.2.7).
FIXED_TOKENIZERS = {"MiniLM": "xlm-roberta-base"}
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")



def is_hub_id(model: str) -> bool:
    """A Hub id (``org/name`` or ``name``) rather than a local path."""
    return bool(_HUB_ID.match(model)) and not Path(model).exists()


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


def hub_offline() -> bool:
    """HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) is set, as huggingface_hub reads it."""
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE)


def is_cached(repo_id: str, revision: str | None = None, filename: str = "config.json") -> bool:
    """Whether ``filename`` of a Hub repository is in the local cache (no network, no torch)."""
    from huggingface_hub import try_to_load_from_cache

    return isinstance(try_to_load_from_cache(repo_id, filename, revision=revision), str)


def _needs_hub(system: Any, metrics: Iterable[Any]) -> bool:
    """Whether the run names a Hub model at all (file and copy systems with BLEU/chrF need none)."""
    model = getattr(system, "model_id", None)
    if isinstance(model, str) and is_hub_id(model):
        return True
    return any(getattr(m, "hub_files", None) is not None or
               (isinstance(getattr(m, "model_id", None), str) and is_hub_id(m.model_id)) for m in metrics)


def check_offline(system: Any, metrics: Iterable[Any]) -> None:
    """Under HF_HUB_OFFLINE=1, or when the Hub cannot be reached, fail in seconds, before torch loads,
    when a model the run needs is not cached (an unreachable Hub switches the process to the cache).

    Checks the system's model and, for each COMET metric, the checkpoint, the encoder its
    ``hparams.yaml`` names (xlm-roberta-large, microsoft/infoxlm-large) and any tokenizer COMET
    loads by a fixed name (xlm-roberta-base for Cometinho's MiniLM), which COMET would otherwise
    fail to find only after translating, under the checkpoint's name.

    Raises:
        ModelUnavailableError: naming the missing model and the fix.
    """
    from mteval.hub import probe as hub
    from mteval.errors import ModelUnavailableError

    if not hub_offline():
        if not _needs_hub(system, metrics):
            return
        ok, reason = hub.reachable()
        if ok:
            return
        # No network: say so in seconds, and read models from the cache without any retrying.
        hub.go_offline()
        fix = f"it is not in the local Hugging Face cache and {hub.unreachable_fix(reason)}"
    else:
        fix = ("HF_HUB_OFFLINE=1 is set and it is not in the local Hugging Face cache: run `make models` "
               "(mteval-prefetch with the same overrides) where the Hub is reachable")
    model = getattr(system, "model_id", None)
    if isinstance(model, str) and is_hub_id(model) and not is_cached(model, getattr(system, "revision", None)):
        raise ModelUnavailableError(f"cannot load model '{model}' (system {system.name}): {fix}")
    for metric in metrics:
        hub_files = getattr(metric, "hub_files", None)
        if hub_files is not None:  # a metric that lists what it loads (MetricX: weights and tokenizer repos)
            for repo, revision, filename in hub_files():
                if not is_cached(repo, revision, filename):
                    raise ModelUnavailableError(f"cannot load model '{repo}' (metrics.{metric.name}): {fix}")
            continue
        model = getattr(metric, "model_id", None)
        if not isinstance(model, str) or getattr(metric, "preflight", None) is None:
            continue
        from mteval.metrics.comet import checkpoint_path

        checkpoint = checkpoint_path(model, getattr(metric, "revision", None))  # names the checkpoint if missing
        for repo, filename in comet_dependencies(checkpoint.parents[1]):
            if not is_cached(repo, None, filename):
                what = "encoder" if filename == "config.json" else "tokenizer"
                raise ModelUnavailableError(f"cannot load model '{repo}', the {what} that COMET checkpoint '{model}' "
                                            f"(metrics.{metric.name}) builds on: {fix}")
