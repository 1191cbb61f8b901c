"""sacrebleu's per-segment statistics extracted chunk by chunk into compact numpy arrays: corpus scores in bounded memory.

sacrebleu's ``corpus_score`` first turns every reference of the corpus into n-gram counters and
keeps them all (``_cache_references``), then builds a Python list per segment: a million WMT-sized
lines pass 12 GB (issue 21). BLEU, chrF and chrF++ are sums of per-segment sufficient statistics,
so the same extraction run on chunks of segments, each chunk's counters dropped before the next,
gives the same statistics; they are kept as int32 rows (BLEU 10, chrF 18, chrF++ 24 values per
segment: under 100 MB for a million segments), which is also what the bootstrap resamples.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mteval.metrics.sacre_stats import (chunk_ref_counts, corpus_score_of_columns, segment_statistics,
                                        sentence_score, set_ref_counts)

#: Segments per chunk: their reference n-gram counters are all that is held at once (a few MB).
CHUNK_SEGMENTS = 4096
_INT32 = np.iinfo(np.int32)


def ref_streams(refs: Sequence[Sequence[str]]) -> list[list[str | None]]:
    """Transpose per-segment reference lists into sacrebleu's streams, padding with None.

    sacrebleu drops only None from a segment's references; an empty string would count as a
    real (empty) reference and distort TER and BLEU's brevity penalty.
    """
    n = max(len(r) for r in refs)
    return [[r[k] if k < len(r) else None for r in refs] for k in range(n)]


def compact(rows: Sequence[Sequence[float]]) -> np.ndarray:
    """Statistics rows as int32 where every value is an integer that fits, else int64, else float64 (TER)."""
    arr = np.asarray(rows)
    if arr.dtype.kind in "iu" and (arr.size == 0 or (arr.min() >= _INT32.min and arr.max() <= _INT32.max)):
        return arr.astype(np.int32)
    return arr if arr.dtype.kind in "iuf" else arr.astype(np.float64)


class StatsStream:
    """Per-segment statistics of several systems on the same segments, fed one chunk at a time.

    Each chunk's references are tokenised once however many systems are scored against them, and a
    hypothesis that another system also produced for that segment is scored once.

    Args:
        sacre: the configured sacrebleu object (its signature's reference count is set at :meth:`arrays`).
        n_systems: how many hypothesis sets each chunk brings.
    """

    def __init__(self, sacre: Any, n_systems: int = 1):
        self.sacre = sacre
        self._parts: list[list[np.ndarray]] = [[] for _ in range(n_systems)]
        self._ref_counts: set[int] = set()

    def add(self, hyps: Sequence[Sequence[str]], refs: Sequence[Sequence[str]]) -> None:
        """One chunk: ``hyps[s][k]`` is system ``s``'s prepared hypothesis of segment ``k`` of ``refs``."""
        if not len(refs):
            return
        where: dict[tuple[int, str], int] = {}
        for system in hyps:
            for k, h in enumerate(system):
                where.setdefault((k, h), len(where))
        keys = list(where)
        rows = compact(segment_statistics(self.sacre, [h for _, h in keys], ref_streams(refs),
                                          rows=[k for k, _ in keys]))
        self._ref_counts.add(chunk_ref_counts(self.sacre))
        for part, system in zip(self._parts, hyps, strict=True):
            part.append(rows[[where[(k, h)] for k, h in enumerate(system)]])

    def arrays(self) -> list[np.ndarray]:
        """Each system's ``(n_segments, n_stats)`` statistics; sets the reference count the signature reports."""
        if self._ref_counts:
            set_ref_counts(self.sacre, self._ref_counts)
        return [np.concatenate(parts) if parts else np.zeros((0, 0), np.int32) for parts in self._parts]


def extract(sacre: Any, hyps: Sequence[str], refs: Sequence[Sequence[str]], *,
            chunk: int = CHUNK_SEGMENTS) -> np.ndarray:
    """One system's per-segment statistics, extracted ``chunk`` segments at a time."""
    stream = StatsStream(sacre)
    for lo in range(0, len(hyps), chunk):
        stream.add([hyps[lo : lo + chunk]], refs[lo : lo + chunk])
    return stream.arrays()[0]


def corpus_score(sacre: Any, stats: np.ndarray) -> float:
    """The corpus score of per-segment statistics, summed as sacrebleu sums them (identical float)."""
    return corpus_score_of_columns(sacre, stats.T)


def sentence_scores(sent_metric: Any, stats: np.ndarray, *, chunk: int = CHUNK_SEGMENTS) -> list[float]:
    """Each segment's sentence score (``sent_metric`` configured for sentences), from Python numbers as
    sacrebleu's own lists hold them, converted a chunk at a time."""
    out: list[float] = []
    for lo in range(0, len(stats), chunk):
        out.extend(sentence_score(sent_metric, row) for row in stats[lo : lo + chunk].tolist())
    return out
