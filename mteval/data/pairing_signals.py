"""Model-free pairing signals between English and Chinese blocks: dictionary overlap, anchors, length."""
from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from mteval.data.dictionary import STOP_EN, STOP_ZH, Lexicon, english_stems, stem

_LATIN = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_'][A-Za-z0-9]+)*")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_URL = re.compile(
    r"(?:https?://)?(?:[A-Za-z0-9-]+\.)+(?:com|org|net|io|ai|edu|gov|dev|cn|me|co|info)(?:/[A-Za-z0-9_\-./~%#?=&+]*)?"
)
_LATEX = re.compile(r"\\[A-Za-z]+")
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_THOUSANDS = re.compile(r"^\d{1,3}(,\d{3})+$")
_PLURAL_ACRONYM = re.compile(r"^([A-Z][A-Za-z0-9]*[A-Z0-9])s$")

# Expected zh/en character ratio and the spread of its log. Measured on WMT22 en-zh documents
# (human references): mean 0.30-0.34, sd of the log ratio 0.08-0.16 by domain; the spread is
# widened for short texts (see length_z).
LENGTH_RATIO = 0.32
LENGTH_LOG_SD = 0.12
# The order band: matches count as in place within 10% of the text, or 8 content words for short
# ones. Measured on WMT22 documents, translations keep 75% or more of their overlap in place
# (median 0.95); topical neighbours keep 0.35-0.75.
ORDER_BAND = 0.10
ORDER_BAND_WORDS = 8


@dataclass
class Features:
    """What pairing looks at in one block (NFKC-normalised; token sets lower-cased).

    Args:
        n_chars: characters after collapsing whitespace (the length signal).
        stems: English: content stems the dictionary knows. Chinese: stems its words translate
            to, plus its Latin tokens.
        words: Chinese only: content words found in the dictionary (units of zh->en coverage).
        anchors: what survives translation verbatim, with a base weight: numbers, URLs, LaTeX
            commands and Latin names (English: a digit or two capitals, not a shouted English
            word; Chinese: any run of Latin words, as one phrase).
        matchable: what an anchor of the other language is looked up in: the anchors, every Latin
            token and its hyphen parts, and every run of up to MAX_PHRASE Latin tokens.
        sequence: English stems or Chinese words in text order (the order signal).
    """

    lang: str
    n_chars: int
    truncated: bool
    stems: set[str] = field(default_factory=set)
    words: set[str] = field(default_factory=set)
    anchors: dict[str, float] = field(default_factory=dict)
    matchable: set[str] = field(default_factory=set)
    sequence: list[str] = field(default_factory=list)


MAX_PHRASE = 5


def _token_key(tok: str) -> str:
    m = _PLURAL_ACRONYM.match(tok)  # LLMs -> llm: Chinese drops the plural
    tok = m.group(1) if m else tok
    return re.sub(r"'s$", "", tok.lower())


def _number_key(tok: str) -> str:
    return tok.replace(",", "") if _THOUSANDS.match(tok) else tok.rstrip(".,")


def _url_key(url: str) -> str:
    u = re.sub(r"^https?://", "", url.lower()).rstrip("/.")
    return u[4:] if u.startswith("www.") else u


def _is_word(key: str, lexicon: Lexicon | None) -> bool:
    """A common English word (a stop word, or one the dictionary translates), not a name."""
    return key in STOP_EN or (lexicon is not None and len(key) > 2 and stem(key) in lexicon.en_vocab)


def _is_name_like(tok: str, lexicon: Lexicon | None) -> bool:
    """An English token Google Translate keeps in Latin script: a digit, or 2+ capitals (not SHOUTING)."""
    if any(c.isdigit() for c in tok):
        return True
    if sum(c.isupper() for c in tok) < 2:
        return False
    key = _token_key(tok)
    return not (tok.isupper() and (key in STOP_EN or (len(key) > 3 and _is_word(key, lexicon))))


def _latin_runs(text: str) -> list[list[str]]:
    """Latin tokens grouped into runs that only whitespace separates (a name, a title)."""
    runs: list[list[str]] = []
    end = -2
    for m in _LATIN.finditer(text):
        if runs and text[end : m.start()].isspace():
            runs[-1].append(m.group())
        else:
            runs.append([m.group()])
        end = m.end()
    return runs


def extract(text: str, *, lang: str, truncated: bool, lexicon: Lexicon | None) -> Features:
    """Compute one block's features."""
    text = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip()
    feats = Features(lang=lang, n_chars=len(text), truncated=truncated)
    anchors = {"url:" + _url_key(u): 2.0 for u in _URL.findall(text)}
    anchors.update({"tex:" + t: 1.0 for t in _LATEX.findall(text)})
    rest = _URL.sub(" ", _LATEX.sub(" ", text))
    for n in _NUMBER.findall(rest):
        # One- and two-digit numbers (list items, "3 datasets") occur in every abstract.
        key = _number_key(n)
        anchors["num:" + key] = 0.3 if len(key) == 1 else 0.6 if len(key) == 2 else 1.0
    for run in _latin_runs(rest):
        keys = [_token_key(t) for t in run]
        feats.matchable.update(p for k in keys for p in re.split(r"[-_']", k) if p)
        for size in range(1, MAX_PHRASE + 1):
            feats.matchable.update(" ".join(keys[i : i + size]) for i in range(len(keys) - size + 1))
        if lang == "en":
            anchors.update({"tok:" + k: 1.0 for t, k in zip(run, keys) if _is_name_like(t, lexicon)})
            continue
        for i in range(0, len(keys), MAX_PHRASE):
            chunk = keys[i : i + MAX_PHRASE]
            if len(chunk) > 1 or len(chunk[0]) > 1 or run[i].isupper():
                common = all(_is_word(k, lexicon) for k in chunk)
                anchors["tok:" + " ".join(chunk)] = 0.5 if common else 1.0
    feats.anchors = anchors
    feats.matchable.update(t[1:].lower() for t in _LATEX.findall(text))  # MT may detach the backslash: "\ textbf"
    feats.matchable = {"tok:" + m for m in feats.matchable} | set(anchors)
    if lexicon is None:
        return feats
    if lang == "en":
        feats.sequence = [s for s in english_stems(text) if s in lexicon.en_vocab]
        feats.stems = set(feats.sequence)
        return feats
    for run in _CJK_RUN.findall(text):
        for word in lexicon.segment(run):
            stems = lexicon.stems(word)
            if stems and word not in STOP_ZH:
                feats.words.add(word)
                feats.sequence.append(word)
                feats.stems |= stems
    feats.stems |= {stem(m[4:]) for m in feats.matchable if m.startswith("tok:") and " " not in m}
    return feats


def same_text(a: Features, b: Features, *, min_share: float = 0.8) -> bool:
    """Two blocks of one language that are versions of one text (a truncated or edited copy).

    True when most of the smaller one's content words are in the larger one.
    """
    x, y = (a.stems, b.stems) if a.lang == "en" else (a.words, b.words)
    small = min(len(x), len(y))
    return small >= 10 and len(x & y) >= min_share * small


def idf(sets: Sequence[set[str]]) -> dict[str, float]:
    """Smoothed inverse document frequency, ``log(1 + N / df)``, of every item in ``sets``."""
    df: dict[str, int] = {}
    for s in sets:
        for item in s:
            df[item] = df.get(item, 0) + 1
    return {item: math.log(1.0 + len(sets) / d) for item, d in df.items()}


def _incidence(sets: Sequence[set[str]], index: dict[str, int], weights: dict[str, float] | None = None):
    from scipy import sparse

    rows, cols, vals = [], [], []
    for r, items in enumerate(sets):
        for item in items:
            c = index.get(item)
            if c is not None:
                rows.append(r)
                cols.append(c)
                vals.append(1.0 if weights is None else weights[item])
    return sparse.csr_matrix((vals, (rows, cols)), shape=(len(sets), len(index)))


def found_weight(left: Sequence[set[str]], right: Sequence[set[str]], *, weights: dict[str, float]) -> np.ndarray:
    """``[i, j]``: summed weight of the items of ``left[i]`` that are in ``right[j]``."""
    index = {item: k for k, item in enumerate(sorted({x for s in left for x in s}))}
    return (_incidence(left, index, weights) @ _incidence(right, index).T).toarray()


def total_weight(sets: Sequence[set[str]], *, weights: dict[str, float]) -> np.ndarray:
    """Summed weight of each set's items."""
    return np.array([sum(weights[x] for x in s) for s in sets], dtype=np.float64)


def _share(found: np.ndarray, total: np.ndarray) -> np.ndarray:
    return np.divide(found, total[:, None], out=np.zeros_like(found), where=total[:, None] > 0)


def en_coverage(en: Sequence[Features], zh: Sequence[Features]) -> np.ndarray:
    """``[i, j]``: idf-weighted share of English block i's stems that some word of Chinese block j translates."""
    weights = idf([f.stems for f in en])
    sets = [f.stems for f in en]
    return _share(found_weight(sets, [f.stems for f in zh], weights=weights), total_weight(sets, weights=weights))


def zh_coverage(zh: Sequence[Features], en: Sequence[Features], *, lexicon: Lexicon) -> np.ndarray:
    """``[j, i]``: idf-weighted share of Chinese block j's words with a translation in English block i."""
    vocab = sorted({w for f in zh for w in f.words})
    stem_index = {s: k for k, s in enumerate(sorted({s for f in en for s in f.stems}))}
    matched = (_incidence([set(lexicon.stems(w)) for w in vocab], stem_index)
               @ _incidence([f.stems for f in en], stem_index).T) > 0  # vocab x n_en
    # A one-character word carries many unrelated glosses, so its hit says less.
    weights = {w: v * (0.5 if len(w) == 1 else 1.0) for w, v in idf([f.words for f in zh]).items()}
    sets = [f.words for f in zh]
    words = _incidence(sets, {w: k for k, w in enumerate(vocab)}, weights)
    return _share((words @ matched.astype(np.float64)).toarray(), total_weight(sets, weights=weights))


def anchor_weights(feats: Sequence[Features]) -> dict[str, float]:
    """Every anchor's base weight (the largest any block gave it)."""
    out: dict[str, float] = {}
    for f in feats:
        for a, w in f.anchors.items():
            out[a] = max(w, out.get(a, 0.0))
    return out


def length_z(en: Sequence[Features], zh: Sequence[Features]) -> np.ndarray:
    """``[i, j]``: signed deviation of the zh/en length ratio from the expected one, in standard deviations.

    A truncated side is only ever short, so its being short is not held against the pair.
    """
    en_len = np.array([max(f.n_chars, 1) for f in en], dtype=np.float64)
    zh_len = np.array([max(f.n_chars, 1) for f in zh], dtype=np.float64)
    dev = np.log(zh_len[None, :] / (LENGTH_RATIO * en_len[:, None]))
    sd = LENGTH_LOG_SD * np.sqrt(1.0 + 300.0 / np.minimum(zh_len[None, :], LENGTH_RATIO * en_len[:, None]))
    z = dev / sd
    zh_trunc = np.array([f.truncated for f in zh])[None, :]
    en_trunc = np.array([f.truncated for f in en])[:, None]
    return np.where(((z < 0) & zh_trunc) | ((z > 0) & en_trunc), 0.0, z)


def order_ratio(en: Features, zh: Features, *, lexicon: Lexicon, en_weights: dict[str, float],
                zh_weights: dict[str, float]) -> float:
    """Share of the dictionary overlap that also keeps its place in the text (1.0 when unknown).

    A translation says things in the same order, so a word and its translation sit at about the
    same relative position; two texts on one topic share words scattered anywhere. Counts both
    directions (as ``en_coverage``/``zh_coverage``) with and without requiring the match within
    a band around the diagonal, and returns banded / unbanded. Truncated or very short texts
    (where the band covers everything) return 1.0: no evidence either way.
    """
    ne, nz = len(en.sequence), len(zh.sequence)
    band = max(ORDER_BAND, ORDER_BAND_WORDS / max(ne, 1))
    if en.truncated or zh.truncated or ne == 0 or nz == 0 or band >= 0.5:
        return 1.0
    en_pos: dict[str, list[float]] = {}
    for p, s in enumerate(en.sequence):
        en_pos.setdefault(s, []).append(p / ne)
    zh_pos: dict[str, list[float]] = {}
    for q, w in enumerate(zh.sequence):
        zh_pos.setdefault(w, []).append(q / nz)
    stem_pos: dict[str, list[float]] = {}
    for w, qs in zh_pos.items():
        for s in lexicon.stems(w):
            stem_pos.setdefault(s, []).extend(qs)

    def near(ps: list[float], qs: list[float]) -> bool:
        return any(abs(p - q) <= band for p in ps for q in qs)

    hit_en = sum(en_weights.get(s, 0.0) for s in en_pos if s in stem_pos)
    band_en = sum(en_weights.get(s, 0.0) for s, ps in en_pos.items() if near(ps, stem_pos.get(s, ())))
    hit_zh = band_zh = 0.0
    for w, qs in zh_pos.items():
        ps = [p for s in lexicon.stems(w) for p in en_pos.get(s, ())]
        if ps:
            weight = zh_weights.get(w, 0.0) * (0.5 if len(w) == 1 else 1.0)
            hit_zh += weight
            band_zh += weight if near(ps, qs) else 0.0
    if hit_en == 0 or hit_zh == 0:
        return 1.0
    return math.sqrt((band_en / hit_en) * (band_zh / hit_zh))
