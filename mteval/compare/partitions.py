"""Domains and documents as partitions of the test set: per part, each system's score, 95% interval and paired tests.

Each part is tested as if it were the whole test set: its segments' sufficient statistics are
resampled with the same engine and seed as the corpus comparison (:mod:`mteval.stats`), so a
domain's numbers equal ``sacrebleu --paired-bs`` / ``--paired-ar`` run on that domain's lines.
Documents (WMT22 en-zh: 181, about 11 segments each) use fewer resamples by default, stated with
the results, because their count multiplies the cost; a part too small for a test gets none.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from mteval.compare.segstats import MetricStats
from mteval.stats.intervals import Interval, estimate_ci
from mteval.stats.paired import paired_ar_p, paired_bootstrap_p
from mteval.stats.resampling import bootstrap_counts, bootstrap_scores, swap_mask

# With n segments, approximate randomisation has 2**(n-1) distinct splits (up to swapping A and B),
# so an exact test cannot go below p = 1/2**(n-1): under 6 segments no p-value under 0.05 is real
# (Riezler & Maxwell 2005 on randomisation tests); the bootstrap is no better on so few segments.
MIN_TEST_SEGMENTS = 6
KINDS = ("domain", "document")


@dataclass
class Part:
    """One domain or document: what each system scores on its segments (arrays in run order).

    Attributes:
        label: the domain name or document id.
        n: segments of the part the metric scored.
        scores: each system's corpus score on the part.
        intervals: each system's 95% bootstrap interval on the part.
        p_bs / p_ar: paired bootstrap / randomisation p-value against the baseline (None for the baseline,
            for a part under MIN_TEST_SEGMENTS segments, and p_ar when no trials were asked for).
    """

    label: str
    n: int
    scores: np.ndarray
    intervals: list[Interval]
    p_bs: list[float | None]
    p_ar: list[float | None]

    @property
    def spread(self) -> float:
        """Best minus worst system score on the part."""
        return float(self.scores.max() - self.scores.min())

    @property
    def std(self) -> float:
        """Standard deviation of the systems' scores on the part."""
        return float(self.scores.std())


@dataclass
class Partition:
    """One metric's scores by domain or by document, with the resamples they used."""

    kind: str
    n_bootstrap: int
    n_ar: int
    parts: list[Part]

    def by_spread(self) -> list[Part]:
        """The parts, the one where the systems differ most first (ties keep label order)."""
        return sorted(self.parts, key=lambda p: -p.spread)


def score_part(ms: MetricStats, rows: np.ndarray, label: str, *, baseline: int, n_bootstrap: int, n_ar: int,
               seed: int | None) -> Part:
    """Scores, intervals and paired tests of every system on the metric's statistics ``rows``."""
    stats = [s[rows] for s in ms.stats]
    n = len(rows)
    scores = ms.scorer.scores(np.vstack([s.sum(axis=0) for s in stats]))
    boot = bootstrap_scores(ms.scorer, stats, bootstrap_counts(n, n_bootstrap, seed), sacrebleu=ms.sacrebleu)
    others = [i for i in range(len(stats)) if i != baseline]
    p_bs: list[float | None] = [None] * len(stats)
    p_ar: list[float | None] = [None] * len(stats)
    if n >= MIN_TEST_SEGMENTS:
        for i in others:
            p_bs[i] = paired_bootstrap_p(boot[baseline], boot[i], scores[baseline], scores[i])
        if n_ar > 0:
            ps = paired_ar_p(ms.scorer, stats[baseline], [stats[i] for i in others], swap_mask(n, n_ar, seed),
                             float(scores[baseline]), [float(scores[i]) for i in others])
            for i, p in zip(others, ps, strict=True):
                p_ar[i] = p
    return Part(label=label, n=n, scores=scores, intervals=[estimate_ci(b) for b in boot], p_bs=p_bs, p_ar=p_ar)


def partition(ms: MetricStats, labels: list[str | None], *, kind: str, baseline: int, n_bootstrap: int, n_ar: int,
              seed: int | None) -> Partition | None:
    """``ms`` split by ``labels`` (one per corpus position; None = in no part), in label order.

    Returns None for fewer than two parts (one part is the corpus) or no resamples asked for.
    """
    if n_bootstrap < 1:
        return None
    scored = np.array([labels[k] or "" for k in ms.segments], dtype=object)
    names = sorted({d for d in scored if d})
    if len(names) < 2:
        return None
    parts = [score_part(ms, np.flatnonzero(scored == d), d, baseline=baseline, n_bootstrap=n_bootstrap, n_ar=n_ar,
                        seed=seed) for d in names]
    return Partition(kind=kind, n_bootstrap=n_bootstrap, n_ar=n_ar, parts=parts)


def _num(x: float | None) -> float | None:
    return None if x is None else round(float(x), 6)


def partition_record(part: Partition, baseline: int) -> dict[str, Any]:
    """A partition as JSON values: settings, then per part (label order) its n, spread, std and one list per
    statistic with a value per system, in run order (the record's ``systems``)."""
    return {
        "n_bootstrap": part.n_bootstrap, "n_ar": part.n_ar, "min_test_segments": MIN_TEST_SEGMENTS,
        "parts": [{
            "label": p.label, "n": p.n, "spread": _num(p.spread), "std": _num(p.std),
            "score": [_num(x) for x in p.scores], "lower": [_num(iv.lower) for iv in p.intervals],
            "upper": [_num(iv.upper) for iv in p.intervals],
            "delta": [_num(x - p.scores[baseline]) for x in p.scores],
            "p_bs": [_num(x) for x in p.p_bs], "p_ar": [_num(x) for x in p.p_ar],
        } for p in part.parts],
    }
