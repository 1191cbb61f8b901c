"""Every pair of systems on one metric: score differences, paired p-values with Holm's correction, segment wins.

The bootstrap resamples every system with the same draws (as ``sacrebleu --paired-bs``), so the
resampled scores are computed once per system and only differenced per pair; the randomisation
test (:func:`mteval.stats.paired.ar_p_values`) shares one swap mask across pairs. Both tests are
symmetric, so ``p[i, j]`` is what sacrebleu prints for ``j`` with ``i`` as the baseline, and the
same with the roles swapped.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from mteval.stats.holm import holm_matrix
from mteval.stats.paired import ar_p_values, pairwise_bootstrap_p
from mteval.stats.scorers import Scorer

# Segment scores closer than this count as a tie (sentence BLEU of identical outputs is bit-equal;
# a model's scores of identical outputs may differ in the last bits between batches).
TIE = 1e-9


def pairwise_ar_p(scorer: Scorer, stats: list[np.ndarray], swap: np.ndarray,
                  scores: np.ndarray | list[float]) -> np.ndarray:
    """Approximate-randomisation p-values between every two systems, ``(k, k)``, 1 on the diagonal."""
    k = len(stats)
    i, j = np.triu_indices(k, k=1)
    out = np.ones((k, k))
    out[i, j] = out[j, i] = ar_p_values(scorer, stats, swap, scores, list(zip(i.tolist(), j.tolist(), strict=True)))
    return out


def head_to_head(good: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Segment wins and ties between every two systems.

    Args:
        good: ``(k, n_segments)`` segment scores signed so that higher is better, NaN where unscored.

    Returns:
        ``wins[i, j]``: segments, scored for both, where ``i`` beats ``j`` by more than :data:`TIE`;
        ``ties[i, j]``: those within it. ``i``'s losses against ``j`` are ``wins[j, i]``.
    """
    diff = good[:, None, :] - good[None, :, :]
    both = ~np.isnan(diff)
    with np.errstate(invalid="ignore"):
        wins = (both & (diff > TIE)).sum(axis=2)
        ties = (both & (np.abs(diff) <= TIE)).sum(axis=2)
    return wins, ties


@dataclass
class PairTable:
    """One metric's every pair of systems (rows and columns in run order).

    Attributes:
        diff: ``score[row] - score[col]`` as the metric reports it (for a lower-is-better metric a
            negative difference means the row is better).
        p_bs, p_ar: uncorrected paired bootstrap / randomisation p-values, as sacrebleu gives them;
            ``p_ar`` is None when the randomisation test is skipped.
        p_bs_holm, p_ar_holm: Holm-adjusted over the metric's ``k(k-1)/2`` pairs, each test its own family.
        wins, ties: segment counts (:func:`head_to_head`); losses are ``wins.T``.
        n_bootstrap, n_ar: resamples and trials behind the p-values.
    """

    diff: np.ndarray
    p_bs: np.ndarray
    p_ar: np.ndarray | None
    p_bs_holm: np.ndarray
    p_ar_holm: np.ndarray | None
    wins: np.ndarray
    ties: np.ndarray
    n_bootstrap: int
    n_ar: int

    @property
    def losses(self) -> np.ndarray:
        return self.wins.T

    @property
    def family(self) -> int:
        """Pairs in the correction's family: ``k(k-1)/2``."""
        k = len(self.diff)
        return k * (k - 1) // 2

    @property
    def cluster_test(self) -> str:
        """The test whose Holm-adjusted p-values decide the rank clusters: randomisation when it was
        run (Riezler & Maxwell 2005 find it the more conservative, and 10000 trials leave Holm room
        where 1000 resamples do not, :func:`mteval.stats.holm.smallest_adjusted`), else bootstrap."""
        return "ar" if self.p_ar is not None else "bs"

    @property
    def cluster_p(self) -> np.ndarray:
        """The Holm-adjusted matrix the rank clusters are drawn from."""
        return self.p_ar_holm if self.p_ar_holm is not None else self.p_bs_holm

    def record(self) -> dict[str, Any]:
        """JSON-ready matrices (rows and columns in run order)."""
        def mat(x: np.ndarray | None) -> list | None:
            return None if x is None else np.asarray(x).round(6).tolist()

        return {"correction": "holm", "family": self.family, "clusters_from": f"p_{self.cluster_test}_holm",
                "diff": mat(self.diff), "p_bs": mat(self.p_bs), "p_bs_holm": mat(self.p_bs_holm),
                "p_ar": mat(self.p_ar), "p_ar_holm": mat(self.p_ar_holm), "wins": self.wins.tolist(),
                "ties": self.ties.tolist(), "losses": self.losses.tolist()}


def pair_table(scores: np.ndarray, boot: np.ndarray, p_ar: np.ndarray | None, good: np.ndarray, *,
               n_ar: int) -> PairTable:
    """Assemble a metric's :class:`PairTable`.

    Args:
        scores: corpus scores ``(k,)``; boot: resampled scores ``(k, n_bootstrap)`` on shared draws.
        p_ar: :func:`pairwise_ar_p`, or None. good: signed segment scores for :func:`head_to_head`.
    """
    p_bs = pairwise_bootstrap_p(boot, scores)
    wins, ties = head_to_head(good)
    return PairTable(diff=scores[:, None] - scores[None, :], p_bs=p_bs, p_ar=p_ar, p_bs_holm=holm_matrix(p_bs),
                     p_ar_holm=None if p_ar is None else holm_matrix(p_ar), wins=wins, ties=ties,
                     n_bootstrap=boot.shape[1], n_ar=n_ar)
