"""Where the metrics disagree: rank correlations between metrics over the systems, and whose place moves most."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from mteval.compare.meta import kendall_tau, pearson

#: A system is flagged when its places under two metrics lie this far apart: more than two
#: neighbours swapping. On the 13 WMT22 en-zh submissions (BLEU and chrF agree with Kendall tau 0.87)
#: it flags GTCOM (8th by BLEU, 6th by chrF) and AISP-SJTU (5th, 7th).
MIN_SHIFT = 2


def places(good: np.ndarray) -> np.ndarray:
    """Each system's place (1 = best) under each metric; tied systems share the best place.

    Args:
        good: ``(n_metrics, n_systems)`` scores signed so that higher is better.
    """
    return 1 + (good[:, None, :] > good[:, :, None]).sum(axis=2)


def average_ranks(good: np.ndarray) -> np.ndarray:
    """Ranks 1 = best with ties given the average of the places they span (as Spearman's rho uses)."""
    better = (good[:, None, :] > good[:, :, None]).sum(axis=2)
    equal = (good[:, None, :] == good[:, :, None]).sum(axis=2)
    return 1 + better + (equal - 1) / 2


@dataclass
class Disagreement:
    """The metrics' rankings of the systems side by side.

    Attributes:
        metrics: metric names, in comparison order.
        kendall, spearman: ``(m, m)`` rank correlations over the systems (Kendall's tau-b;
            Spearman's rho over average ranks), 1 on the diagonal, NaN where a metric ties every system.
        places: ``(m, k)`` each system's place under each metric (:func:`places`).
        spread: ``(k,)`` each system's largest minus smallest place.
        flagged: systems whose places lie at least ``min_shift`` apart, largest spread first.
    """

    metrics: list[str]
    kendall: np.ndarray
    spearman: np.ndarray
    places: np.ndarray
    spread: np.ndarray
    flagged: list[int]
    min_shift: int

    def pairs(self) -> list[tuple[int, int]]:
        """Every two metrics ``(a, b)``, ``a < b``."""
        m = len(self.metrics)
        return [(a, b) for a in range(m) for b in range(a + 1, m)]

    def places_of(self, system: int) -> list[tuple[str, int]]:
        """``(metric, place)`` for one system, best place first."""
        found = [(name, int(p)) for name, p in zip(self.metrics, self.places[:, system], strict=True)]
        return sorted(found, key=lambda x: x[1])

    def record(self, names: list[str]) -> dict[str, Any]:
        """JSON-ready: correlations by metric pair, every system's places, the flagged systems."""
        def num(x: float) -> float | None:
            return None if np.isnan(x) else round(float(x), 6)

        return {"min_shift": self.min_shift,
                "correlations": [{"metrics": [self.metrics[a], self.metrics[b]], "kendall_tau": num(self.kendall[a, b]),
                                  "spearman_rho": num(self.spearman[a, b])} for a, b in self.pairs()],
                "places": {n: {m: int(self.places[k, i]) for k, m in enumerate(self.metrics)}
                           for i, n in enumerate(names)},
                "flagged": [names[i] for i in self.flagged]}


def disagreement(metrics: list[str], good: np.ndarray, *, min_shift: int = MIN_SHIFT) -> Disagreement | None:
    """Compare the metrics' rankings; None with fewer than two metrics.

    Args:
        metrics: names. good: ``(n_metrics, n_systems)`` corpus scores signed so that higher is better.
        min_shift: places apart from which a system is flagged.
    """
    good = np.asarray(good, dtype=np.float64)
    if len(metrics) < 2:
        return None
    m = len(metrics)
    avg = average_ranks(good)
    kendall, spearman = np.ones((m, m)), np.ones((m, m))
    for a in range(m):
        for b in range(a + 1, m):
            kendall[a, b] = kendall[b, a] = kendall_tau(good[a], good[b])
            # Rank 1 is best, so the ranks correlate as the scores do.
            spearman[a, b] = spearman[b, a] = pearson(-avg[a], -avg[b])
    where = places(good)
    spread = where.max(axis=0) - where.min(axis=0)
    flagged = [int(i) for i in np.argsort(-spread, kind="stable") if spread[i] >= min_shift]
    return Disagreement(metrics=list(metrics), kendall=kendall, spearman=spearman, places=where, spread=spread,
                        flagged=flagged, min_shift=min_shift)
