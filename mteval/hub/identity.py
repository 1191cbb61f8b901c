"""A model's identity by content: the resolved Hub commit, or a digest of a local directory or file."""
from __future__ import annotations

import hashlib
import os
import re
from functools import lru_cache
from pathlib import Path

from mteval.errors import ModelUnavailableError
from mteval.hub.loading import model_error

_COMMIT = re.compile(r"^[0-9a-f]{40}$")
# Files that never change what a model computes: build markers, git metadata, editor locks.
_IGNORED = (".tiny-model-complete", ".gitattributes", "README.md", "mteval-ct2.json")


def model_identity(model: str, revision: str | None = None) -> str:
    """``sha256:<hex>`` for a local directory or file, ``hub:<commit>`` for a Hub id.

    Used in cache keys, CTranslate2 conversion paths and signatures, so that weights swapped
    at the same path, or a branch that moved on the Hub, never pass for the model used before.
    """
    path = Path(model)
    if path.exists():
        return "sha256:" + content_digest(path)
    return "hub:" + hub_commit(model, revision)


def content_digest(path: str | Path) -> str:
    """SHA-256 over the relative names and bytes of every file under ``path`` (or of one file).

    Hashed once per process for each (name, size, mtime) listing: a multi-gigabyte model is read
    once per run, and a file rewritten in place is hashed again.
    """
    path = Path(path).resolve()
    files = [path] if path.is_file() else sorted(
        p for p in path.rglob("*") if p.is_file() and p.name not in _IGNORED and not p.name.startswith(".")
        and ".git" not in p.relative_to(path).parts)
    listing = tuple((str(p.relative_to(path)) if p != path else p.name, p.stat().st_size, p.stat().st_mtime_ns)
                    for p in files)
    return _digest(str(path), listing)


@lru_cache(maxsize=64)
def _digest(root: str, listing: tuple[tuple[str, int, int], ...]) -> str:
    h = hashlib.sha256()
    base = Path(root)
    for rel, size, _ in listing:
        h.update(f"{rel}\0{size}\0".encode())
        with open(base if base.is_file() else base / rel, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def hub_commit(repo_id: str, revision: str | None = None) -> str:
    """The commit a Hub revision (``main`` when None) resolves to: a full commit hash is itself;
    otherwise the local cache's ``refs/<revision>`` (written by every download, read offline),
    else the Hub when it is reachable.

    Raises:
        ModelUnavailableError: offline and the model is not in the local cache.
    """
    if revision and _COMMIT.match(revision):
        return revision
    from huggingface_hub import constants

    ref = (Path(constants.HF_HUB_CACHE) / f"models--{repo_id.replace('/', '--')}" / "refs"
           / (revision or "main"))
    if ref.is_file():
        return ref.read_text(encoding="utf-8").strip()
    offline = constants.HF_HUB_OFFLINE or os.environ.get("TRANSFORMERS_OFFLINE") == "1"
    if not offline:
        try:
            from huggingface_hub import HfApi

            return HfApi().model_info(repo_id, revision=revision).sha
        except Exception as err:  # noqa: BLE001 - any Hub failure becomes the one-line error below

            raise model_error(repo_id, err) from err
    raise ModelUnavailableError(
        f"cannot identify model '{repo_id}' (revision {revision or 'main'}): it is not in the local Hugging Face "
        "cache and HF_HUB_OFFLINE=1 is set; run `make models` (mteval-prefetch) where the Hub is reachable")
