"""Data provenance: content hashes of the files a corpus was read from."""
from __future__ import annotations

import hashlib
from pathlib import Path

from mteval.data.userfile import check_regular


def file_digest(path: str | Path) -> str:
    """``sha256:<hex>`` of a file's bytes, so a result names exactly the data it was computed on.

    Read in blocks (a release XML need not fit in memory twice); a device or FIFO is refused first.
    """
    check_regular(path)
    digest = hashlib.sha256()
    with Path(path).open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return "sha256:" + digest.hexdigest()


def text_digest(text: str) -> str:
    """``sha256:<hex>`` of a text's UTF-8 bytes (data fetched at run time, such as an arXiv abstract)."""
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
