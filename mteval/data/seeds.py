"""Seed pages: blocks separated by ``translated by 谷歌翻译``, one abstract (EN or ZH) per block."""
from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path

from mteval.data.textfile import read_lines
from mteval.text.script import detect_lang
from mteval.types import Block, Origin

SEPARATOR = "translated by 谷歌翻译"
_TRUNCATED = re.compile(r"(\.\.\.|…)\s*$")
_SPACES = re.compile(r"\s+")


def block_id(text: str) -> str:
    """A stable id from the NFKC-normalised, whitespace-collapsed text."""
    norm = _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip()
    return "abs-" + hashlib.sha1(norm.encode("utf-8")).hexdigest()[:12]


def read_page(path: str | Path) -> list[tuple[str, Origin]]:
    """Split one page into (text, origin) blocks in page order; empty blocks are skipped.

    Lines inside a block are joined with a space (English) or nothing (Chinese), so a
    block is always one line of text; the origin is the block's first line.
    """
    blocks: list[tuple[str, Origin]] = []
    current: list[tuple[int, str]] = []
    index = 0

    def flush() -> None:
        nonlocal index
        lines = [(n, t.strip()) for n, t in current if t.strip()]
        current.clear()
        if not lines:
            return
        index += 1
        parts = [t for _, t in lines]
        joiner = "" if detect_lang(" ".join(parts)) == "zh" else " "
        blocks.append((joiner.join(parts), Origin(str(path), lines[0][0], index)))

    for lineno, line in read_lines(path):
        if line.strip() == SEPARATOR:
            flush()
        else:
            current.append((lineno, line))
    flush()
    return blocks


def read_pages(paths: Iterable[str | Path]) -> list[Block]:
    """Read pages in the given order and dedupe blocks by id, keeping every origin.

    Returns the unique blocks in order of first appearance.
    """
    by_id: dict[str, Block] = {}
    for path in paths:
        for text, origin in read_page(path):
            bid = block_id(text)
            if bid not in by_id:
                by_id[bid] = Block(
                    id=bid, lang=detect_lang(text), text=text, truncated=bool(_TRUNCATED.search(text))
                )
            by_id[bid].origins.append(origin)
    return list(by_id.values())


def page_paths(path_or_glob: str | Path | Sequence[str | Path]) -> list[Path]:
    """Expand a directory (its ``*.txt``), a glob or a list of paths to a sorted list of files."""
    if isinstance(path_or_glob, (list, tuple)):
        return [Path(p) for p in path_or_glob]
    p = Path(path_or_glob)
    if p.is_dir():
        return sorted(p.glob("*.txt"))
    if any(ch in str(p) for ch in "*?["):
        return sorted(Path().glob(str(p)))
    return [p]
