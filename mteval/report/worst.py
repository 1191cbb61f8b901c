"""Which segments the report shows as each system's worst: long enough to mean something, distinct per system."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mteval.compare.comparison import Comparison, MetricComparison
from mteval.compare.segstats import segment_grid
from mteval.compare.table import system_order
from mteval.text.checks import CJK_TARGETS
from mteval.types import Direction

# String metrics in order of preference when no model-based metric was scored: chrF is the
# sentence-level metric that behaves best on short segments (sentence BLEU is mostly 0 there).
_STRING_PREFERENCE = ("chrf", "chrf++", "bleu", "ter")
# Sentence chrF of a 2-4 character reference ("damn." -> 真是太) measures the reference, not the
# system: string metrics rank only segments whose reference has at least this many characters
# (CJK) or words (other targets); a typical WMT22 sentence has about 40 / 20.
MIN_LENGTH = {"cjk": 15, "words": 6}


@dataclass
class WorstSegment:
    """One shown segment of one system.

    Attributes:
        seg: corpus position.
        score: the system's segment score.
        median: the median segment score of all systems on this segment.
        other: the system shown beside it (the baseline; for the baseline, the best system there).
        other_score: that system's segment score.
    """

    seg: int
    score: float
    median: float
    other: int
    other_score: float


def primary_metric(comp: Comparison) -> MetricComparison:
    """The metric that ranks segments: a model-based one (COMET, MetricX) when scored, else chrF."""
    model_based = [m for m in comp.metrics if m.model_based]
    if model_based:
        return model_based[0]
    by_name = {m.name: m for m in comp.metrics}
    return next((by_name[n] for n in _STRING_PREFERENCE if n in by_name), comp.metrics[0])


def segment_length(text: str, lang: str) -> int:
    """Characters (CJK) or whitespace-separated words (other languages), spaces ignored."""
    return len("".join(text.split())) if lang in CJK_TARGETS else len(text.split())


def long_enough(comp: Comparison) -> np.ndarray:
    """Per segment: whether its reference (the source, when there is none) reaches MIN_LENGTH."""
    rs = comp.runset
    langs = Direction.parse(rs.direction)
    src_lang, tgt_lang = langs.src, langs.tgt
    out = []
    for src, refs in zip(rs.srcs, rs.refs, strict=True):
        text, lang = (refs[0], tgt_lang) if refs else (src, src_lang)
        out.append(segment_length(text, lang) >= MIN_LENGTH["cjk" if lang in CJK_TARGETS else "words"])
    return np.array(out, dtype=bool)


def score_matrix(comp: Comparison, m: MetricComparison) -> np.ndarray:
    """Segment scores, systems x segments, NaN where unscored; signed so that higher is better."""
    return segment_grid(comp.runset, m.name, higher_is_better=m.higher_is_better)


def worst_segments(comp: Comparison, k: int) -> tuple[MetricComparison, dict[int, list[WorstSegment]]]:
    """Per system, ``k`` of its lowest-scoring segments: those among its bottom quarter where it falls
    furthest below the median system.

    The bottom quarter keeps the picks bad in absolute terms; ranking them by the gap to the median
    keeps out segments every system finds hard (which would show the same ids for every system).
    Each source sentence is shown for one system only, the first in table order that ranks it (test
    sets repeat sentences). String metrics skip segments under MIN_LENGTH unless too few remain.
    Returns the ranking metric and the picks, keyed by system index."""
    m = primary_metric(comp)
    good = score_matrix(comp, m)
    srcs = comp.runset.srcs
    scored = ~np.isnan(good).any(axis=0)
    eligible = scored & long_enough(comp) if not m.model_based else scored
    n_sys = good.shape[0]
    if eligible.sum() < k * n_sys:
        eligible = scored
    median = np.full(good.shape[1], np.nan)
    median[scored] = np.median(good[:, scored], axis=0)
    cand = np.flatnonzero(eligible)
    sign = 1.0 if m.higher_is_better else -1.0
    taken: set[str] = set()
    picks: dict[int, list[WorstSegment]] = {}
    for i in system_order(comp):
        bottom = good[i, cand] <= np.quantile(good[i, cand], 0.25) if len(cand) else np.zeros(0, dtype=bool)
        gap = good[i, cand] - median[cand]
        # Bottom quarter first, then largest shortfall, then lowest score.
        ranked = cand[np.lexsort((good[i, cand], gap, ~bottom))]
        chosen = []
        for s in (int(s) for s in ranked):
            if len(chosen) == k:
                break
            if srcs[s] not in taken:
                taken.add(srcs[s])
                chosen.append(s)
        rows = []
        for s in chosen:
            others = [j for j in range(n_sys) if j != i]
            other = comp.baseline if i != comp.baseline else max(others, key=lambda j: good[j, s])
            rows.append(WorstSegment(seg=s, score=sign * good[i, s], median=sign * median[s], other=other,
                                     other_score=sign * good[other, s]))
        picks[i] = rows
    return m, picks
