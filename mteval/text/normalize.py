"""Chinese punctuation width normalisation applied to hypotheses and references before scoring."""
from __future__ import annotations

# Full-width forms of ASCII (U+FF01..U+FF5E) sit exactly 0xFEE0 above their ASCII twins.
_FULLWIDTH_TO_ASCII = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_FULLWIDTH_TO_ASCII[0x3000] = 0x20  # ideographic space
_ASCII_TO_FULLWIDTH = {v: k for k, v in _FULLWIDTH_TO_ASCII.items() if v != 0x20}

MODES = ("none", "halfwidth")


def to_halfwidth(text: str) -> str:
    """Map full-width ASCII variants (，：（）？！ and full-width digits/letters) and U+3000 to ASCII.

    CJK punctuation without an ASCII twin (。、「」《》) is left alone. Google Translate's Chinese
    (our abstract references) writes ASCII ``, : ( ) ?`` while MT systems and WMT references mostly
    write the full-width forms; without this, BLEU and chrF count a width mismatch as an error.
    """
    return text.translate(_FULLWIDTH_TO_ASCII)


def normalize_punct(text: str, mode: str) -> str:
    """Apply a normalisation mode: ``none`` (identity) or ``halfwidth``."""
    if mode == "none":
        return text
    if mode == "halfwidth":
        return to_halfwidth(text)
    raise ValueError(f"unknown punctuation normalisation {mode!r}; choose one of {MODES}")


def fullwidth_share(text: str) -> float:
    """Share of punctuation marks in ``text`` written in full-width form (0 when it has none)."""
    full = sum(1 for ch in text if ord(ch) in _FULLWIDTH_TO_ASCII and not ch.isalnum() and ch != "\u3000")
    half = sum(1 for ch in text if ord(ch) in _ASCII_TO_FULLWIDTH and not ch.isalnum())
    return full / (full + half) if full + half else 0.0
