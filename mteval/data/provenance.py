"""Data provenance: content hashes of the files a corpus was read from."""
from __future__ import annotations

import hashlib
from pathlib import Path


def file_digest(path: str | Path) -> str:
    """``sha256:<hex>`` of a file's bytes, so a result names exactly the data it was computed on."""
    return "sha256:" + hashlib.sha256(Path(path).read_bytes()).hexdigest()


def text_digest(text: str) -> str:
    """``sha256:<hex>`` of a text's UTF-8 bytes (data fetched at run time, such as an arXiv abstract)."""
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
