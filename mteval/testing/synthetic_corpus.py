"""Synthetic line-aligned corpora of any size (English and Chinese, references and perturbed hypotheses), for scale tests and benches.

Words are drawn from a Zipf-like distribution over a fixed vocabulary (pseudo-English words of
one to four syllables; Chinese words of one to three CJK characters), with commas, a final full
stop, numbers and Latin words inside Chinese text, so the tokenizers (13a, zh) meet what they meet
in WMT text. A hypothesis is its reference with words replaced, dropped and swapped at a set rate,
so n-gram matches of every order occur. Everything is drawn from one seed: same seed, same files.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

_BLOCK = 10_000
_SYLLABLES = [c + v for c in ["", "b", "c", "d", "f", "g", "h", "l", "m", "n", "p", "r", "s", "t", "th", "w"]
              for v in ["a", "e", "i", "o", "u", "an", "er", "in", "on", "ou"]]


def _vocabulary(lang: str, size: int, rng: np.random.Generator) -> list[str]:
    if lang == "zh":
        chars = rng.integers(0x4E00, 0x9FA6, size=(size, 3))
        lengths = rng.choice([1, 2, 2, 2, 3], size=size)
        return ["".join(map(chr, row[:k])) for row, k in zip(chars.tolist(), lengths.tolist(), strict=True)]
    words = ["".join(_SYLLABLES[s] for s in rng.integers(0, len(_SYLLABLES), size=k))
             for k in rng.choice([1, 2, 2, 3, 4], size=size).tolist()]
    return [w.capitalize() if i % 23 == 0 else w for i, w in enumerate(words)]


class _Language:
    """One language's vocabulary and how its words join into a sentence."""

    def __init__(self, lang: str, rng: np.random.Generator, size: int = 8000):
        words = _vocabulary(lang, size, rng)
        if lang == "zh":  # numbers and Latin names inside Chinese text: the zh tokenizer splits them apart
            words[7::97] = [str(1900 + i) for i in range(len(words[7::97]))]
            latin = ["COVID", "WMT", "iPhone", "5G", "NASA"]
            words[11::89] = [latin[i % len(latin)] for i in range(len(words[11::89]))]
        comma, self.stop, self.sep = ("，", "。", "") if lang == "zh" else (",", ".", " ")
        self.words = np.array(words + [w + comma for w in words], dtype=object)  # id + size: with a comma
        rank = np.arange(1, size + 1, dtype=np.float64)
        self.p = rank**-1.05 / (rank**-1.05).sum()

    def draw(self, rng: np.random.Generator, lengths: np.ndarray) -> np.ndarray:
        return rng.choice(len(self.p), size=int(lengths.sum()), p=self.p)

    def lines(self, ids: np.ndarray, lengths: np.ndarray, rng: np.random.Generator) -> list[str]:
        """Join each line's words (about one in twelve followed by a comma) and end it with a full stop."""
        words = self.words[ids + len(self.p) * (rng.random(len(ids)) < 0.08)].tolist()
        ends = np.cumsum(lengths).tolist()
        return [self.sep.join(words[a:b]) + self.stop for a, b in zip([0, *ends[:-1]], ends, strict=True)]


def _perturb(ids: np.ndarray, lengths: np.ndarray, rate: float, rng: np.random.Generator,
             vocab: int) -> tuple[np.ndarray, np.ndarray]:
    """Every line's words with about ``rate`` of them replaced, half of its lines with two neighbours
    swapped, and about a third of ``rate`` dropped: the new ids and line lengths."""
    out = ids.copy()
    replace = rng.random(len(out)) < rate
    out[replace] = rng.integers(0, vocab, size=int(replace.sum()))
    starts = np.cumsum(lengths) - lengths
    swap = (lengths > 2) & (rng.random(len(lengths)) < 0.5)
    j = (starts + np.floor(rng.random(len(lengths)) * (lengths - 1)).astype(np.int64))[swap]
    out[j], out[j + 1] = out[j + 1], out[j].copy()
    keep = rng.random(len(out)) >= rate / 3
    line = np.repeat(np.arange(len(lengths)), lengths)
    return out[keep], np.bincount(line[keep], minlength=len(lengths))


def synthetic_segments(n: int, *, direction: str = "en-zh", seed: int = 0,
                       rates: tuple[float, ...] = (0.25, 0.4)) -> Iterator[tuple[str, str, list[str]]]:
    """``(source, reference, [hypothesis per rate])`` for ``n`` segments of a ``direction`` among en-zh and zh-en."""
    src_lang, tgt_lang = direction.split("-")
    rng = np.random.default_rng(seed)
    src, tgt = _Language(src_lang, rng), _Language(tgt_lang, rng)
    for lo in range(0, n, _BLOCK):
        size = min(_BLOCK, n - lo)
        src_len = rng.integers(6, 40, size=size)
        ref_len = np.maximum(3, (src_len * (0.7 if tgt_lang == "zh" else 1.2)).astype(np.int64))
        ref_ids = tgt.draw(rng, ref_len)
        hyps = [tgt.lines(*_perturb(ref_ids, ref_len, rate, rng, len(tgt.p)), rng) for rate in rates]
        srcs = src.lines(src.draw(rng, src_len), src_len, rng)
        refs = tgt.lines(ref_ids, ref_len, rng)
        for k in range(size):
            yield srcs[k], refs[k], [h[k] for h in hyps]


def write_corpus(folder: str | Path, n: int, *, direction: str = "en-zh", seed: int = 0,
                 rates: tuple[float, ...] = (0.25, 0.4)) -> dict[str, Path]:
    """Write ``src``, ``ref`` and one ``hyp<i>`` file per rate into ``folder``; returns their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    src_lang, tgt_lang = direction.split("-")
    paths = {"src": folder / f"src.{src_lang}", "ref": folder / f"ref.{tgt_lang}",
             **{f"hyp{i}": folder / f"hyp{i}.{tgt_lang}" for i in range(len(rates))}}
    files = {key: open(path, "w", encoding="utf-8") for key, path in paths.items()}  # noqa: SIM115 - closed below
    try:
        for s, r, hyps in synthetic_segments(n, direction=direction, seed=seed, rates=rates):
            files["src"].write(s + "\n")
            files["ref"].write(r + "\n")
            for i, h in enumerate(hyps):
                files[f"hyp{i}"].write(h + "\n")
    finally:
        for f in files.values():
            f.close()
    return paths
