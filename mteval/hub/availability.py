"""Can this run get every model it needs? Answered once, before any model loads: cached, offline, or the Hub unreachable.

Systems and metrics declare what they load (``required_models()``, a list of :class:`ModelRef`);
the pipeline checks them all here, through the one Hub probe, before any metric or system touches
the network, and ``mteval-prefetch`` downloads the same list.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mteval.errors import ModelUnavailableError
from mteval.hub import probe

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


@dataclass(frozen=True)
class ModelRef:
    """One Hub repository a run loads.

    Args:
        repo_id: the Hub id (``Unbabel/wmt22-comet-da``) or a local path (never checked against the Hub).
        revision: the Hub revision, None for the default branch.
        role: what is fetched of it: ``system`` (weights), ``comet`` (a COMET checkpoint), ``encoder``
            (the encoder a COMET checkpoint names: configs and tokenizer only), ``metricx`` (weights and
            config) or ``tokenizer`` (tokenizer files only).
        named_by: the setting that names it, for messages (``system opus-mt-en-zh``, ``metrics.comet``).
        filename: a file that must be in the local cache for the model to count as present.
    """

    repo_id: str
    revision: str | None
    role: str
    named_by: str
    filename: str = "config.json"

    @property
    def on_hub(self) -> bool:
        return is_hub_id(self.repo_id)


def is_hub_id(model: str) -> bool:
    """A Hub id (``org/name`` or ``name``) rather than a local path."""
    return bool(_HUB_ID.match(model)) and not Path(model).exists()


def hub_offline() -> bool:
    """HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) is set, as huggingface_hub reads it."""
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE)


def is_cached(repo_id: str, revision: str | None = None, filename: str = "config.json") -> bool:
    """Whether ``filename`` of a Hub repository is in the local cache (no network, no torch)."""
    from huggingface_hub import try_to_load_from_cache

    return isinstance(try_to_load_from_cache(repo_id, filename, revision=revision), str)


def cached_file(repo_id: str, revision: str | None, filename: str) -> Path | None:
    """The local copy of one file of a Hub repository, or None when it is not cached."""
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(repo_id, filename, revision=revision)
    return Path(found) if isinstance(found, str) else None


def check_models(refs: Sequence[ModelRef]) -> None:
    """Under HF_HUB_OFFLINE=1, or when the one Hub probe finds the Hub unreachable (refused, or no answer
    within its deadline), refuse in seconds, naming every model of ``refs`` that is not cached and the
    one command that fetches them all. An unreachable Hub switches the process to the local cache, so no
    library retries it afterwards.

    Raises:
        ModelUnavailableError: naming every missing model and the fix.
    """
    on_hub = list(dict.fromkeys(r for r in refs if r.on_hub))
    if not on_hub:
        return
    if hub_offline():
        why = "HF_HUB_OFFLINE=1 is set"
    else:
        ok, reason = probe.reachable()
        if ok:
            return
        probe.go_offline()
        why = probe.unreachable_reason(reason)
    missing = [r for r in on_hub if not is_cached(r.repo_id, r.revision, r.filename)]
    if missing:
        names = "; ".join(f"'{r.repo_id}' ({r.named_by})" for r in missing)
        what = f"model {names} is" if len(missing) == 1 else f"{len(missing)} models are"
        listing = "" if len(missing) == 1 else f" ({names})"
        raise ModelUnavailableError(
            f"cannot load {what} not in the local Hugging Face cache{listing} and {why}: fetch "
            f"{'it' if len(missing) == 1 else 'them all'} with `make models` (mteval-prefetch with this run's "
            f"overrides) where the Hub is reachable, or {probe.OTHER_WAYS}")
