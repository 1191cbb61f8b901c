"""Corpus scores from summed sufficient statistics, vectorised over resamples and bit-equal to sacrebleu."""
from __future__ import annotations

import math
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

import numpy as np

# sacrebleu's paired bootstrap sums float32 statistics, so a ratio of two statistics is divided
# in float32 (chrF precision/recall, TER edits/length) while corpus scores and the
# approximate-randomisation trials divide Python or int64 integers in float64. ``ratio_dtype``
# replays that, so resampled scores equal sacrebleu's to the last bit, not just to 1e-6.
FLOAT32 = np.dtype(np.float32)
FLOAT64 = np.dtype(np.float64)
#: How far (relative to max(1, |score|)) :meth:`Scorer.approx_scores` may stray from :meth:`Scorer.scores`.
APPROX_TOLERANCE = 1e-9
# Before 3.12, sum() of floats adds left to right, as numpy's column-by-column adds do; 3.12 compensates
# the rounding (python/cpython gh-100425), so there each row is summed by sum() itself.
_PLAIN_SUM = sys.version_info < (3, 12)


class Scorer(ABC):
    """Turns rows of summed statistics (one row per resample) into corpus scores."""

    @abstractmethod
    def scores(self, sums: np.ndarray, *, ratio_dtype: np.dtype = FLOAT64) -> np.ndarray:
        """Score each row of ``sums`` (shape ``(n_rows, n_stats)``); returns a float64 vector."""

    def score(self, sums: np.ndarray) -> float:
        """The corpus score of one row of summed statistics."""
        return float(self.scores(np.asarray(sums, dtype=np.float64)[None, :])[0])

    def approx_scores(self, sums: np.ndarray) -> np.ndarray:
        """:meth:`scores` in float64, allowed to differ from it by a few ulps (never more than
        :data:`APPROX_TOLERANCE` relative) where that is much faster; the randomisation test
        recomputes exactly only the trials this leaves undecided."""
        return self.scores(sums)


class MeanScorer(Scorer):
    """Corpus score = mean of segment scores (COMET, CometKiwi); statistics are ``[score, 1]``."""

    def scores(self, sums, *, ratio_dtype=FLOAT64):
        return sums[:, 0].astype(np.float64) / sums[:, 1].astype(np.float64)


def _each(fn: Callable[[float], float], values: np.ndarray) -> np.ndarray:
    """``fn`` (``math.log``, ``math.exp``) on every element, as float64, called once per distinct value
    (resamples of a short document repeat their statistics)."""
    distinct, inverse = np.unique(values, return_inverse=True)
    out = np.fromiter(map(fn, distinct.tolist()), dtype=np.float64, count=len(distinct))
    return out[inverse].reshape(values.shape)


def _python_sums(values: np.ndarray) -> np.ndarray:
    """Row sums as Python's ``sum()`` of the row's floats gives them (what sacrebleu calls)."""
    if _PLAIN_SUM:
        total = np.zeros(len(values))
        for column in values.T:
            total = total + column
        return total
    return np.array([sum(row) for row in values.tolist()])


def _ratio(num: np.ndarray, den: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """``num / den`` computed in ``dtype`` and widened to float64; 0 where ``den`` is 0."""
    safe = np.where(den > 0, den, 1).astype(dtype)
    return (num.astype(dtype) / safe).astype(np.float64)


class BleuScorer(Scorer):
    """BLEU from ``[sys_len, ref_len, correct_1..N, total_1..N]``, as ``BLEU.compute_bleu``."""

    def __init__(self, *, max_ngram_order: int = 4, smooth_method: str = "exp",
                 smooth_value: float | None = None, effective_order: bool = False):
        defaults = {"none": None, "floor": 0.1, "add-k": 1, "exp": None}
        if smooth_method not in defaults:
            raise ValueError(f"unknown BLEU smoothing {smooth_method!r}")
        self.max_ngram_order = max_ngram_order
        self.smooth_method = smooth_method
        self.smooth_value = defaults[smooth_method] if smooth_value is None else smooth_value
        self.effective_order = effective_order

    def _precisions(self, sums: np.ndarray):
        """Per row: n-gram precisions (0 where a total is 0), effective order, no-match flag, lengths."""
        n_ord = self.max_ngram_order
        sums = np.asarray(sums, dtype=np.float64)
        sys_len, ref_len = sums[:, 0], sums[:, 1]
        correct = sums[:, 2 : 2 + n_ord].copy()
        total = sums[:, 2 + n_ord : 2 + 2 * n_ord].copy()
        rows = len(sums)
        no_match = ~(correct != 0).any(axis=1)  # tested before add-k smoothing, as sacrebleu does
        precisions = np.zeros((rows, n_ord))
        alive = np.ones(rows, dtype=bool)  # the n-gram loop has not hit a zero total yet
        eff = np.full(rows, n_ord)
        smooth = np.ones(rows)
        for n in range(n_ord):
            if self.smooth_method == "add-k" and n > 0:
                correct[:, n] += self.smooth_value
                total[:, n] += self.smooth_value
            alive &= total[:, n] != 0
            if self.effective_order:
                eff = np.where(alive, n + 1, eff)
            safe_total = np.where(alive, total[:, n], 1.0)
            zero = alive & (correct[:, n] == 0)
            if self.smooth_method == "exp":
                smooth = np.where(zero, smooth * 2, smooth)
                precisions[:, n] = np.where(zero, 100.0 / (smooth * safe_total), precisions[:, n])
            elif self.smooth_method == "floor":
                precisions[:, n] = np.where(zero, 100.0 * self.smooth_value / safe_total, precisions[:, n])
            hit = alive & ~zero
            precisions[:, n] = np.where(hit, 100.0 * correct[:, n] / safe_total, precisions[:, n])
        return precisions, eff, no_match, sys_len, ref_len

    def scores(self, sums, *, ratio_dtype=FLOAT64):
        precisions, eff, no_match, sys_len, ref_len = self._precisions(sums)
        # log and exp go through Python's math, as in sacrebleu (numpy's SIMD log/exp may round differently
        # in the last bit), but over whole arrays; the sum over orders adds left to right as sacrebleu's sum().
        logs = np.where(precisions > 0, _each(math.log, np.where(precisions > 0, precisions, 1.0)), -9999999999.0)
        logs = np.where(np.arange(precisions.shape[1])[None, :] < eff[:, None], logs, 0.0)  # the effective orders
        geo = _each(math.exp, _python_sums(logs) / eff)
        ratio = 1 - ref_len / np.where(sys_len > 0, sys_len, 1.0)
        bp = np.where(sys_len < ref_len, np.where(sys_len > 0, _each(math.exp, ratio), 0.0), 1.0)
        return np.where(no_match, 0.0, bp * geo)

    def approx_scores(self, sums):
        # The same formula with numpy's log and exp: many times faster than Python's (above), and
        # off by a few ulps at most (BLEU is at most 100, so far below APPROX_TOLERANCE).
        precisions, eff, no_match, sys_len, ref_len = self._precisions(sums)
        used = np.arange(precisions.shape[1])[None, :] < eff[:, None]
        with np.errstate(divide="ignore"):
            logs = np.where(precisions > 0, np.log(np.where(precisions > 0, precisions, 1.0)), -9999999999.0)
        logs = np.where(used, logs, 0.0).sum(axis=1)
        safe_sys = np.where(sys_len > 0, sys_len, 1.0)
        bp = np.where(sys_len < ref_len, np.where(sys_len > 0, np.exp(1 - ref_len / safe_sys), 0.0), 1.0)
        return np.where(no_match, 0.0, bp * np.exp(logs / eff))


class ChrfScorer(Scorer):
    """chrF/chrF++ from ``[hyp, ref, match]`` triples per order, as ``CHRF._compute_f_score``."""

    def __init__(self, *, order: int, beta: int = 2, eps_smoothing: bool = False):
        self.order = order
        self.beta = beta
        self.eps_smoothing = eps_smoothing

    def scores(self, sums, *, ratio_dtype=FLOAT64):
        eps = 1e-16
        factor = float(self.beta**2)
        sums = np.asarray(sums, dtype=np.float64)
        rows = len(sums)
        score = np.zeros(rows)
        avg_prec = np.zeros(rows)
        avg_rec = np.zeros(rows)
        eff = np.zeros(rows)
        for i in range(self.order):
            n_hyp, n_ref, n_match = sums[:, 3 * i], sums[:, 3 * i + 1], sums[:, 3 * i + 2]
            prec = np.where(n_hyp > 0, _ratio(n_match, n_hyp, ratio_dtype), eps)
            rec = np.where(n_ref > 0, _ratio(n_match, n_ref, ratio_dtype), eps)
            denom = factor * prec + rec
            safe = np.where(denom > 0, denom, 1.0)
            score = score + np.where(denom > 0, (1 + factor) * prec * rec / safe, eps)
            both = (n_hyp > 0) & (n_ref > 0)
            avg_prec = np.where(both, avg_prec + prec, avg_prec)
            avg_rec = np.where(both, avg_rec + rec, avg_rec)
            eff = eff + both
        if self.eps_smoothing:
            return 100 * score / self.order
        safe_eff = np.where(eff > 0, eff, 1.0)
        avg_prec = np.where(eff > 0, avg_prec / safe_eff, 0.0)
        avg_rec = np.where(eff > 0, avg_rec / safe_eff, 0.0)
        nonzero = (avg_prec + avg_rec) != 0
        f = (1 + factor) * avg_prec * avg_rec
        f = f / np.where(nonzero, factor * avg_prec + avg_rec, 1.0)
        return np.where(nonzero, 100 * f, 0.0)


class TerScorer(Scorer):
    """TER from ``[edits, ref_len]``, as ``TER._compute_score_from_stats``."""

    def scores(self, sums, *, ratio_dtype=FLOAT64):
        sums = np.asarray(sums, dtype=np.float64)
        edits, ref_len = sums[:, 0], sums[:, 1]
        ratio = _ratio(edits, ref_len, ratio_dtype)
        ratio = np.where(ref_len > 0, ratio, np.where(edits > 0, 1.0, 0.0))
        return 100 * ratio


def scorer_for(sacre_metric: Any) -> Scorer:
    """The scorer matching a configured sacrebleu ``BLEU``, ``CHRF`` or ``TER`` object."""
    from sacrebleu.metrics import BLEU, CHRF, TER

    if isinstance(sacre_metric, BLEU):
        return BleuScorer(max_ngram_order=sacre_metric.max_ngram_order, smooth_method=sacre_metric.smooth_method,
                          smooth_value=sacre_metric.smooth_value, effective_order=sacre_metric.effective_order)
    if isinstance(sacre_metric, CHRF):
        return ChrfScorer(order=sacre_metric.order, beta=sacre_metric.beta, eps_smoothing=sacre_metric.eps_smoothing)
    if isinstance(sacre_metric, TER):
        return TerScorer()
    raise TypeError(f"no vectorised scorer for {type(sacre_metric).__name__}")
