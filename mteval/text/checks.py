"""Per-segment output checks: empty, copied source, wrong script, Traditional characters, punctuation, length."""
from __future__ import annotations

import re
import statistics
import warnings
from collections.abc import Sequence
from functools import lru_cache

from mteval.text.normalize import fullwidth_share
from mteval.text.script import script_shares

CHECKS = ("empty", "copy", "off_target", "traditional", "punct_width", "length")
DESCRIPTIONS = {
    "empty": "empty output",
    "copy": "output copied from the source",
    "off_target": "output in the wrong script (Latin text for a Chinese target, or the reverse)",
    "traditional": "Traditional characters in a Simplified Chinese target",
    "punct_width": "ASCII punctuation in Chinese text (or full-width punctuation in a Latin-script target)",
    "length": "length far from the reference (under half or over twice)",
}
CJK_TARGETS = {"zh", "ja"}
OFF_TARGET_SHARE = 0.5  # a Chinese output that is mostly Latin words is another language, not names
LENGTH_BOUNDS = (0.5, 2.0)
LENGTH_MIN_CHARS = 10  # ratios of very short segments are noise ("OK" -> "好的")
# ASCII clause marks next to a CJK character: Chinese text writes ，；：？！ (GB/T 15834). ASCII
# parentheses are left alone: Chinese references put them around Latin names, "(Dave Stoufer)".
_ASCII_NEXT_TO_CJK = re.compile(r"(?<=[\u3400-\u9fff])[,;:?!]|[,;:?!](?=[\u3400-\u9fff])")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]")
_LATIN = re.compile(r"[A-Za-z\u00aa\u00b5\u00ba\u00c0-\u024f]")  # a superset of script.is_latin_letter
_FULLWIDTH_PUNCT = re.compile(r"[\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff5e]")


def _squash(text: str) -> str:
    return " ".join(text.casefold().split())


def _length(text: str) -> int:
    return len("".join(text.split()))


def _zhconv():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zhconv imports pkg_resources
        import zhconv
    return zhconv


@lru_cache(maxsize=1)
def traditional_only() -> frozenset[str]:
    """CJK characters that zhconv's zh-hans table rewrites on their own: Traditional-only forms.

    Characters it rewrites only inside some words (覆 in 答覆, 藉 in 藉口, 么 in 么九) are also
    correct Simplified characters elsewhere, so they are not counted. zh-hans rather than zh-cn:
    zh-cn also rewrites Taiwanese vocabulary written in Simplified characters (网路 -> 网络),
    which is a word choice, not a script error.
    """
    chars = [chr(cp) for block in ((0x3400, 0x4DC0), (0x4E00, 0xA000)) for cp in range(*block)]
    converted = _zhconv().convert("\n".join(chars), "zh-hans").split("\n")
    return frozenset(a for a, b in zip(chars, converted, strict=True) if a != b)


@lru_cache(maxsize=65536)
def traditional_chars(text: str) -> str:
    """The Traditional-only characters of ``text`` that zh-hans conversion changes in context."""
    trad = traditional_only()
    if trad.isdisjoint(text):
        return ""
    simplified = _zhconv().convert(text, "zh-hans")
    if len(simplified) == len(text):
        changed = (a for a, b in zip(text, simplified, strict=True) if a != b and a in trad)
    else:
        changed = (ch for ch in text if ch in trad)
    return "".join(dict.fromkeys(changed))


def _off_target(hyp: str, refs: Sequence[str], tgt_lang: str) -> str | None:
    # Cheap bound first: Latin words cannot outnumber CJK characters with fewer Latin letters.
    n_cjk, n_latin = len(_CJK.findall(hyp)), len(_LATIN.findall(hyp))
    if (n_latin < n_cjk) if tgt_lang in CJK_TARGETS else n_cjk == 0:
        return None
    cjk, latin = script_shares(hyp)
    wrong = latin if tgt_lang in CJK_TARGETS else cjk
    if wrong < OFF_TARGET_SHARE:
        return None
    for ref in refs:  # the reference is in that script too (a URL, a name, code): not an error
        r_cjk, r_latin = script_shares(ref)
        if (r_latin if tgt_lang in CJK_TARGETS else r_cjk) >= OFF_TARGET_SHARE:
            return None
    script = "Latin" if tgt_lang in CJK_TARGETS else "CJK"
    return f"{script} share {wrong:.2f}"


def _punct_width(hyp: str, refs: Sequence[str], tgt_lang: str) -> str | None:
    if tgt_lang == "zh":
        ascii_marks = _ASCII_NEXT_TO_CJK.findall(hyp)
        if not ascii_marks or fullwidth_share(hyp) >= 0.5:
            return None
        if any(_ASCII_NEXT_TO_CJK.search(r) and fullwidth_share(r) < 0.5 for r in refs):
            return None  # the reference writes ASCII too (Google-translated references do)
        marks = "".join(dict.fromkeys(ascii_marks))
        return f"ASCII {marks} in Chinese text (full-width share {fullwidth_share(hyp):.2f})"
    if tgt_lang in CJK_TARGETS:
        return None
    marks = _FULLWIDTH_PUNCT.findall(hyp)
    if not marks or any(_FULLWIDTH_PUNCT.search(r) for r in refs):
        return None
    return f"full-width {''.join(dict.fromkeys(marks))} in a {tgt_lang} target"


def check_segment(src: str, hyp: str, refs: Sequence[str], *, tgt_lang: str,
                  expected_len: float | None) -> dict[str, str]:
    """Run every check on one segment; returns ``{check: detail}`` for the checks it fails.

    Args:
        expected_len: the length (non-space characters) the output should have: the mean reference
            length, or the source length times the corpus's typical ratio; None skips the check.
    """
    flags: dict[str, str] = {}
    if not hyp.strip():
        if src.strip():  # an empty source may well have an empty translation
            flags["empty"] = "empty output"
        return flags
    if src.strip() and _squash(hyp) == _squash(src) and not any(_squash(r) == _squash(src) for r in refs):
        flags["copy"] = "identical to the source"
    off = _off_target(hyp, refs, tgt_lang)
    if off:
        flags["off_target"] = off
    if tgt_lang == "zh":
        in_refs = "".join(traditional_chars(r) for r in refs)  # names the reference also writes so
        trad = "".join(ch for ch in traditional_chars(hyp) if ch not in in_refs)
        if trad:
            flags["traditional"] = f"Traditional: {trad[:12]}"
    punct = _punct_width(hyp, refs, tgt_lang)
    if punct:
        flags["punct_width"] = punct
    if expected_len:
        n = _length(hyp)
        if max(n, expected_len) >= LENGTH_MIN_CHARS:
            ratio = n / expected_len
            if not LENGTH_BOUNDS[0] <= ratio <= LENGTH_BOUNDS[1]:
                flags["length"] = f"length ratio {ratio:.2f} ({n} chars, expected ~{expected_len:.0f})"
    return flags


def expected_lengths(srcs: Sequence[str], refs: Sequence[Sequence[str]]) -> list[float | None]:
    """Per segment, the output length to expect: the mean reference length, or, without
    references, the source length times the median target/source length ratio of the segments
    that have them (None when no segment has a reference)."""
    ratios = [sum(_length(r) for r in rs) / len(rs) / _length(s) for s, rs in zip(srcs, refs, strict=True)
              if rs and _length(s)]
    typical = statistics.median(ratios) if ratios else None
    out: list[float | None] = []
    for s, rs in zip(srcs, refs, strict=True):
        if rs:
            out.append(sum(_length(r) for r in rs) / len(rs))
        else:
            out.append(None if typical is None else _length(s) * typical)
    return out


def check_run(srcs: Sequence[str], hyps: Sequence[str], refs: Sequence[Sequence[str]], *, tgt_lang: str,
              expected: Sequence[float | None] | None = None) -> list[dict[str, str]]:
    """Every check on every segment of one system's output; one ``{check: detail}`` dict per segment.

    Args:
        expected: :func:`expected_lengths` of the corpus, when already computed for another system.
    """
    if expected is None:
        expected = expected_lengths(srcs, refs)
    return [check_segment(s, h, r, tgt_lang=tgt_lang, expected_len=e)
            for s, h, r, e in zip(srcs, hyps, refs, expected, strict=True)]
