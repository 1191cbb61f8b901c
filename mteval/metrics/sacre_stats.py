"""sacrebleu's per-segment sufficient statistics and the scores made from them: the one module calling its private API.

sacrebleu 2.x has no public call for per-segment statistics, which mteval needs three times: a
run's corpus and sentence scores from one pass over the data (``metrics/sacre.py``), and the
statistics that compare and the gate resample (``results/rebuild.py``). Its significance module
uses the same methods (``_extract_corpus_statistics``, ``_compute_score_from_stats``), so they are
as stable as sacrebleu's own paired tests; a sacrebleu release that changes them breaks here only.
(``metrics/fasttok.py`` mirrors the ``zh`` tokenizer's internals, and checks them before use.)
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def segment_statistics(sacre: Any, hyps: Sequence[str], streams: list[list[str | None]],
                       rows: Sequence[int] | None = None) -> list[list[float]]:
    """Per-segment sufficient statistics of ``hyps`` (already normalised) for a sacrebleu metric object.

    Args:
        streams: reference streams (:func:`mteval.metrics.sacre_stream.ref_streams`), one entry per segment.
        rows: which segment of ``streams`` each hypothesis is scored against (None: the i-th); the
            references of each segment are then processed once however many hypotheses use them.
    """
    if rows is None:
        return sacre._extract_corpus_statistics(hyps, streams)
    if not len(rows):
        return []
    cache = sacre._cache_references(streams)
    sacre._ref_cache = [cache[r] for r in rows]
    try:
        return sacre._extract_corpus_statistics(hyps, None)
    finally:
        sacre._ref_cache = []


def corpus_score(sacre: Any, stats: Sequence[Sequence[float]]) -> float:
    """The corpus score of summed per-segment statistics, as ``corpus_score`` computes it."""
    return float(sacre._aggregate_and_compute(stats).score)


def corpus_score_of_columns(sacre: Any, columns: Sequence[Any]) -> float:
    """The corpus score of per-segment statistics held column by column (numpy arrays, one per statistic).

    sacrebleu sums its statistics with ``sum_of_lists``: the builtin ``sum`` over each column's Python
    numbers, in segment order. Each column is turned back into Python numbers and summed the same
    way, so integer statistics (BLEU, chrF) give the same integers and float ones (TER with several
    references) the same float, whatever chunks the statistics were extracted in.
    """
    return float(sacre._compute_score_from_stats([sum(col.tolist()) for col in columns]).score)


def chunk_ref_counts(sacre: Any) -> int:
    """How many references the last extraction saw per segment (-1: it varied), for the signature."""
    return int(sacre.num_refs)


def set_ref_counts(sacre: Any, counts: set[int]) -> None:
    """Record in ``sacre``'s signature what the whole corpus had, given each chunk's count: the one
    count every chunk agreed on, or -1 (variable) as ``_cache_references`` sets it for a whole corpus."""
    sacre.num_refs = next(iter(counts)) if len(counts) == 1 else -1


def sentence_score(sacre: Any, stats: Sequence[float]) -> float:
    """The sentence score of one segment's statistics (``sacre`` configured for sentences)."""
    return float(sacre._compute_score_from_stats(stats).score)


def count_words(sacre: Any, text: str) -> int:
    """Words in ``text`` after the metric's own preprocessing (TER: tercom normalisation, CJK split)."""
    return len(sacre._preprocess_segment(text).split())
