"""Sentence splitting for long abstracts (English, Chinese, ...) that never loses or reorders text."""
from __future__ import annotations

import re

# Segmentation is sentencex (Wikimedia, MIT; github.com/wikimedia/sentencex), which knows each
# language's abbreviations and punctuation. Measured against pysbd 0.3.4 on the WMT22 sources
# and the abstracts (README, issue 10 item 8): both keep "U.S. Army", "Sgt. Darren Moss" and
# "Jan. 24th" whole, where the old hand-written rules split them; pysbd split a closing quote
# off as a sentence of its own (~20 WMT22 en lines, ~40 zh lines) and sentencex did not, but
# sentencex split list labels ("Q.", "A.", "1.") off. That one pattern is repaired below.
_LABEL = re.compile(r"^\(?(?:[0-9]{1,3}|[A-Za-z])[.)]$")  # "1.", "Q.", "(a)": a list label, not a sentence
_WORD = re.compile(r"\w")
# Where split_long may cut: after a clause mark, else after whitespace.
_CUTS = (re.compile(r"(?<=[,;:，；：、])"), re.compile(r"(?<=\s)"))


def split_sentences(text: str, lang: str) -> list[str]:
    """Split ``text`` in language ``lang`` (ISO 639-1, e.g. "en", "zh") into stripped sentences.

    Joined with whitespace removed, the pieces give back ``text`` with whitespace removed: nothing
    is lost, duplicated or reordered. A piece with no letter or digit (a stray closing bracket, a
    zero-width space) joins the sentence before it; a bare list label joins the sentence after it.
    """
    from sentencex import segment

    # Spans in ``text`` rather than the pieces themselves, so a merge keeps the original spacing.
    spans: list[tuple[int, int]] = []
    cursor = 0
    for piece in segment(lang, text):
        piece = piece.strip()
        if not piece:
            continue
        at = text.find(piece, cursor)
        if at < 0:  # never seen: a segmenter that rewrote the text; keep it whole rather than lose any
            return [text.strip()]
        spans.append((at, at + len(piece)))
        cursor = at + len(piece)
    merged: list[list[int]] = []
    label: int | None = None  # start of a list label waiting for its sentence
    for begin, end in spans:
        piece = text[begin:end]
        if _LABEL.match(piece):
            label = begin if label is None else label
        elif merged and label is None and not _WORD.search(piece):
            merged[-1][1] = end
        else:
            merged.append([begin if label is None else label, end])
            label = None
    if label is not None:
        merged.append([label, spans[-1][1]])
    return [text[b:e].strip() for b, e in merged]


def split_en(text: str) -> list[str]:
    """English sentences (see :func:`split_sentences`)."""
    return split_sentences(text, "en")


def split_zh(text: str) -> list[str]:
    """Chinese sentences (see :func:`split_sentences`)."""
    return split_sentences(text, "zh")


def join_sentences(sentences: list[str], lang: str) -> str:
    """Re-join translated sentences: no spaces between Chinese sentences, one space otherwise."""
    return ("" if lang in {"zh", "ja"} else " ").join(s.strip() for s in sentences)


def split_long(text: str, max_chars: int) -> list[str]:
    """Split a piece longer than ``max_chars`` at clause marks, then spaces, then hard, in order.

    Used when a sentence is still too long for the model; the pieces, concatenated, give
    back ``text`` exactly. Each cut is the last clause mark (or else the last space) within
    ``max_chars`` characters of the previous one. A loop, not recursion: a long unbroken line
    (a pasted table, a base64 blob) needs thousands of cuts.
    """
    if max_chars < 1:
        raise ValueError(f"max_chars must be at least 1, got {max_chars}")
    parts: list[str] = []
    rest = text
    while len(rest) > max_chars:
        window = rest[: max_chars + 1]
        cut = max_chars
        for pattern in _CUTS:
            cuts = [m.start() for m in pattern.finditer(window) if 0 < m.start() <= max_chars]
            if cuts:
                cut = cuts[-1]
                break
        parts.append(rest[:cut])
        rest = rest[cut:]
    parts.append(rest)
    return parts
