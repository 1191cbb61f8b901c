"""Rank clusters: systems that no significant difference separates share a rank."""
from __future__ import annotations

import numpy as np


def rank_clusters(scores: np.ndarray, pairwise_p: np.ndarray, *, higher_is_better: bool,
                  alpha: float = 0.05) -> np.ndarray:
    """Rank clusters: going down the systems from best to worst, each system that is not
    significantly different (p >= alpha) from the head of the current cluster shares the head's
    rank; the first one that is becomes the head of the next cluster, ranked by its position.

    Returns the 1-based rank of each system, in input order (e.g. 1, 1, 3, 4, 4).
    """
    order = np.argsort(-scores if higher_is_better else scores, kind="stable")
    ranks = np.zeros(len(scores), dtype=int)
    head = None
    for position, i in enumerate(order, start=1):
        if head is None or pairwise_p[head, i] < alpha:
            head = i
            ranks[i] = position
        else:
            ranks[i] = ranks[head]
    return ranks
