"""A corpus against its declared direction: sources or references in the other script are refused, not scored."""
from __future__ import annotations

from collections.abc import Sequence

from mteval.errors import ConfigError
from mteval.text.script import detect_lang
from mteval.types import Corpus, Direction

#: The languages whose script :func:`mteval.text.script.detect_lang` tells apart (CJK vs Latin).
CHECKED = {"en": "English (Latin script)", "zh": "Chinese (CJK script)"}


def other_script(texts: Sequence[str], lang: str) -> tuple[int, int] | None:
    """``(lines in the other script, lines with letters)`` where most of ``texts`` are not in ``lang``'s
    script, else None. Only English and Chinese are checked: a zh->en corpus given as en-zh would be
    scored with the wrong tokenizer (BLEU ``tok:zh`` on English) and exit 0."""
    if lang not in CHECKED:
        return None
    found = [detect_lang(t) for t in texts]
    lettered = [f for f in found if f != "und"]
    other = sum(f != lang for f in lettered)
    return (other, len(lettered)) if lettered and other * 2 > len(lettered) else None


def check_direction(corpus: Corpus, declared: Direction, *, setting: str = "dataset.direction") -> None:
    """Refuse a corpus loaded in another direction than the config declares, or whose sources or
    references are mostly in the other script than the direction says (one line naming the fix).

    Raises:
        ConfigError: the corpus is ``zh-en`` but the config says ``en-zh``, or vice versa.
    """
    swapped = f"{declared.tgt}-{declared.src}"
    if corpus.direction != str(declared):
        raise ConfigError(f"{setting}={declared}, but dataset {corpus.name} is {corpus.direction}: set {setting}="
                          f"{corpus.direction}, or choose the dataset in direction {declared}")
    refs = [r for s in corpus.segments for r in s.refs]
    srcs = [s.src for s in corpus.segments]
    for side, texts, lang in (("source", srcs, declared.src), ("reference", refs, declared.tgt)):
        found = other_script(texts, lang)
        if found is not None:
            raise ConfigError(f"{setting}={declared} says the {side}s are {CHECKED[lang]}, but {found[0]} of "
                              f"{found[1]} {side} lines of dataset {corpus.name} are not: set {setting}={swapped} if "
                              f"the data runs that way, or give the {side} files in {lang}")
