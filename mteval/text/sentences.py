"""Sentence splitting for long abstracts (English and Chinese) that never loses or reorders text."""
from __future__ import annotations

import re

# Abbreviations after which a period does not end an English sentence (scientific prose).
_ABBREV = {
    "e.g", "i.e", "etc", "et al", "al", "fig", "figs", "eq", "eqs", "sec", "vs", "cf", "no", "approx",
    "resp", "dr", "mr", "mrs", "ms", "prof", "st", "jr", "sr", "inc", "ltd", "co", "vol", "pp", "ref", "refs",
    "tab", "ch", "ca", "\\eg", "\\ie", "\\etc",
}
# A sentence end: . ! ? (optionally closed by quotes/brackets) then whitespace then an opening char.
_EN_END = re.compile(r"""[.!?]["')\]]*\s+(?=["'(\[]?[A-Z0-9\\])""")
# Chinese: 。！？ (full-width) or ! ? (ASCII, as Google Translate writes them), closing quotes optional.
_ZH_END = re.compile(r"""(?:[。！？]|[!?](?=\s*[\u4e00-\u9fff]))[”’」』)）]*\s*""")
# Where split_long may cut: after a clause mark, else after whitespace.
_CUTS = (re.compile(r"(?<=[,;:，；：、])"), re.compile(r"(?<=\s)"))


def _abbrev_before(text: str, end: int) -> bool:
    """True if the period at ``text[end]`` closes a known abbreviation or an initial ("J. Smith")."""
    start = end
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    word = text[start:end].lower().lstrip("(\"'[")
    return word in _ABBREV or (len(word) == 1 and word.isalpha())


def split_en(text: str) -> list[str]:
    """Split English prose into sentences; ``"".join`` of the pieces (with their trailing
    whitespace restored by ``" "``) gives back the text's words in order."""
    pieces: list[str] = []
    start = 0
    for m in _EN_END.finditer(text):
        if text[m.start()] == "." and _abbrev_before(text, m.start()):
            continue
        pieces.append(text[start : m.end()].strip())
        start = m.end()
    pieces.append(text[start:].strip())
    return [p for p in pieces if p]


def split_zh(text: str) -> list[str]:
    """Split Chinese prose after 。！？ (and ASCII ! ? followed by Chinese)."""
    pieces: list[str] = []
    start = 0
    for m in _ZH_END.finditer(text):
        pieces.append(text[start : m.end()].strip())
        start = m.end()
    pieces.append(text[start:].strip())
    return [p for p in pieces if p]


def split_sentences(text: str, lang: str) -> list[str]:
    """Split ``text`` in language ``lang`` ("zh" uses the Chinese rules, anything else English)."""
    return split_zh(text) if lang == "zh" else split_en(text)


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
