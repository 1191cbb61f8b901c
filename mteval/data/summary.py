"""The corpus summary every run prints and saves: counts per language, duplicates, pairs, unpaired."""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from mteval.types import Block, Direction

REFERENCE_NOTE = (
    "Chinese blocks in the seed pages are Google Translate output, so any reference taken from them "
    "is a machine translation, not a human one."
)


def summarize_blocks(
    blocks: Sequence[Block], *, n_pages: int, n_pairs: int, n_user_refs: int = 0, direction: str = "en-zh"
) -> dict[str, Any]:
    """Count blocks, unique blocks, languages, duplicates and pairs.

    Args:
        blocks: unique blocks (each with all its origins).
        n_pages: number of page files read.
        n_pairs: EN-ZH pairs found in the pages.
        n_user_refs: sources that got a reference from a user references file instead.
        direction: which language is the source side.
    """
    by_lang = Counter(b.lang for b in blocks)
    src_lang = Direction.parse(direction).src
    n_src = by_lang.get(src_lang, 0)
    with_ref = n_pairs + n_user_refs
    return {
        "pages": n_pages,
        "blocks": sum(b.count for b in blocks),
        "unique": len(blocks),
        "duplicates": sum(b.count - 1 for b in blocks),
        "by_lang": dict(sorted(by_lang.items())),
        "truncated": sum(b.truncated for b in blocks),
        "pairs": n_pairs,
        "user_references": n_user_refs,
        "sources": n_src,
        "sources_with_reference": with_ref,
        "sources_without_reference": n_src - with_ref,
        "note": REFERENCE_NOTE,
    }


def format_summary(summary: dict[str, Any]) -> str:
    """One short human-readable paragraph for the terminal (seed-page or file-based corpora)."""
    if "pages" not in summary:
        return "; ".join(f"{k}: {v}" for k, v in summary.items())
    langs = ", ".join(f"{n} {lang}" for lang, n in summary["by_lang"].items())
    lines = [
        f"corpus: {summary['pages']} pages, {summary['blocks']} blocks, {summary['unique']} unique "
        f"({summary['duplicates']} duplicates), {langs}; {summary['truncated']} truncated",
        f"pairs found in the pages: {summary['pairs']}; user references: {summary['user_references']}; "
        f"sources scored against a reference: {summary['sources_with_reference']}, "
        f"reference-free only: {summary['sources_without_reference']}",
        *([summary["arxiv_originals"]["line"]] if "arxiv_originals" in summary else []),
        summary["note"],
    ]
    return "\n".join(lines)
