"""Find the English and Chinese versions of the same abstract among seed-page blocks (issue #6).

Signals, model-free first: lexical overlap through CC-CEDICT in both directions (as Hunalign
does, Varga et al. 2005), tokens that survive Google Translate verbatim (numbers, acronyms,
names, URLs, LaTeX), and the length ratio; optionally chrF between an MT system's translation
of the English block and the Chinese one. Each signal adds log-odds; a global one-to-one
assignment (Hungarian) picks pairs, and only confident, unambiguous ones are kept: a wrong
pair is worse than a missing one.
"""
from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mteval.data import pairing_signals as sig
from mteval.data.dictionary import load_lexicon
from mteval.types import Block

log = logging.getLogger(__name__)

# Log-odds weights. The dictionary signal is the coverage's lift over what the same blocks reach
# with everything else (the median of their row and column): unrelated texts of one field share
# much of their vocabulary (seed pages: median coverage 0.19, highest 0.33, highest lift 0.10),
# translations stand out (WMT22 documents: lift 0.28 or more for 98%). Small collections have no
# median to speak of, so LEX_PRIOR_N pseudo-blocks at LEX_PRIOR coverage are added to each.
LEX_MID = 0.20
LEX_SLOPE = 30.0
LEX_PRIOR = 0.15
LEX_PRIOR_N = 3
# A coverage over few words is noisy, so the dictionary's say shrinks as n / (n + LEX_SHRINK_N),
# n being the smaller side's number of distinct content words (an abstract has about 100).
LEX_SHRINK_N = 15
ANCHOR_SHARED = 1.0  # per shared anchor (rarer ones count fully), capped
ANCHOR_SHARED_CAP = 4.0
ANCHOR_ZH_ONLY = 0.8  # a Latin token in the Chinese that the English lacks: translation keeps them
ANCHOR_EN_ONLY = 0.3  # an English name missing from the Chinese: may have been translated
ANCHOR_MISSING_CAP = 4.0
LENGTH_FREE_SD = 1.0  # ratios within 1 sd cost nothing, then a Gaussian tail
LENGTH_CAP = 8.0
CHRF_MID = 25.0  # chrF of an MT output against an unrelated abstract stays well under this
CHRF_SLOPE = 0.25
CHRF_CANDIDATES = 3  # per block, the best model-free candidates are checked with the MT system
ORDER_MID = 0.8  # below this share of in-place overlap, a pair loses ORDER_SLOPE per unit
ORDER_SLOPE = 15.0
ORDER_FLOOR = -3.0  # pairs below this log-odds are not worth the order check...
ORDER_CANDIDATES = 5  # ...nor any beyond each block's best five
MARGIN = 1.0  # an accepted pair must beat every unexplained rival by this many log-odds
DEFAULT_MIN_SCORE = 0.9


@dataclass
class Pair:
    """An English block and the Chinese block found to be its translation.

    Args:
        en: the English block.
        zh: the Chinese block.
        score: probability-like confidence in [0, 1] (the logistic of the summed log-odds).
        evidence: every signal's value and log-odds, and ``signals``: those that spoke for the pair.
    """

    en: Block
    zh: Block
    score: float
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """One JSONL record: both texts, both ids, the score and the evidence."""
        return {
            "en_id": self.en.id,
            "zh_id": self.zh.id,
            "score": round(self.score, 4),
            "en": self.en.text,
            "zh": self.zh.text,
            "evidence": self.evidence,
        }


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(min(x, 50.0), -50.0)))


def _lift(lex: np.ndarray) -> np.ndarray:
    """Coverage minus the larger of its row's and column's median (with the prior pseudo-blocks)."""
    n_en, n_zh = lex.shape
    row = np.median(np.hstack([lex, np.full((n_en, LEX_PRIOR_N), LEX_PRIOR)]), axis=1)
    col = np.median(np.vstack([lex, np.full((LEX_PRIOR_N, n_zh), LEX_PRIOR)]), axis=0)
    return lex - np.maximum(row[:, None], col[None, :])


def _logit_parts(
    en: list[sig.Features], zh: list[sig.Features]
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Log-odds contributed by each model-free signal, and the raw values, as ``n_en x n_zh`` matrices."""
    lexicon = load_lexicon()
    parts: dict[str, np.ndarray] = {}
    raw: dict[str, np.ndarray] = {}
    if lexicon is not None:
        cen = sig.en_coverage(en, zh)
        czh = sig.zh_coverage(zh, en, lexicon=lexicon).T
        en_trunc = np.array([f.truncated for f in en])[:, None]
        zh_trunc = np.array([f.truncated for f in zh])[None, :]
        # A truncated side only covers part of the other, so judge by how much of it is covered.
        lex = np.where(en_trunc & zh_trunc, np.maximum(cen, czh),
                       np.where(en_trunc, cen, np.where(zh_trunc, czh, np.sqrt(cen * czh))))
        raw.update(en_covered=cen, zh_covered=czh, coverage=lex, lift=_lift(lex))
        n_en = np.array([len(f.stems) for f in en], dtype=np.float64)[:, None]
        n_zh = np.array([len(f.words) for f in zh], dtype=np.float64)[None, :]
        n = np.minimum(n_en, n_zh)
        parts["dictionary"] = LEX_SLOPE * (raw["lift"] - LEX_MID) * n / (n + LEX_SHRINK_N)
    base = sig.anchor_weights([*en, *zh])
    df = {a: 0 for a in base}
    for f in (*en, *zh):
        for a in f.anchors:
            df[a] += 1
    rare = {a: w * min(1.0, 2.0 / df[a]) for a, w in base.items()}
    zh_sets, en_match = [set(f.anchors) for f in zh], [f.matchable for f in en]
    shared = sig.found_weight(zh_sets, en_match, weights=rare).T
    zh_only = sig.total_weight(zh_sets, weights=base)[None, :] - sig.found_weight(zh_sets, en_match, weights=base).T
    en_sets = [set(f.anchors) for f in en]
    en_only = sig.total_weight(en_sets, weights=base)[:, None] - sig.found_weight(
        en_sets, [f.matchable for f in zh], weights=base)
    en_only = np.where(np.array([f.truncated for f in zh])[None, :], 0.0, en_only)
    zh_only = np.where(np.array([f.truncated for f in en])[:, None], 0.0, zh_only)
    parts["anchors"] = (np.minimum(ANCHOR_SHARED * shared, ANCHOR_SHARED_CAP)
                        - np.minimum(ANCHOR_ZH_ONLY * zh_only + ANCHOR_EN_ONLY * en_only, ANCHOR_MISSING_CAP))
    raw["length_z"] = z = sig.length_z(en, zh)
    parts["length"] = -np.minimum(0.5 * np.maximum(np.abs(z) - LENGTH_FREE_SD, 0.0) ** 2, LENGTH_CAP)
    if lexicon is not None:
        parts["order"], raw["order"] = _order_part(en, zh, sum(parts.values()), lexicon=lexicon)
    return parts, raw


def _candidates(logit: np.ndarray, *, k: int, floor: float) -> set[tuple[int, int]]:
    """Pairs among the best ``k`` of their row or column whose log-odds reach ``floor``."""
    out = {(i, int(j)) for i in range(logit.shape[0]) for j in np.argsort(-logit[i])[:k]}
    out |= {(int(i), j) for j in range(logit.shape[1]) for i in np.argsort(-logit[:, j])[:k]}
    return {(i, j) for i, j in out if logit[i, j] >= floor}


def _order_part(en: list[sig.Features], zh: list[sig.Features], logit: np.ndarray, *, lexicon) -> tuple:
    """Log-odds against candidates whose shared words are out of place (``order_ratio``)."""
    en_w, zh_w = sig.idf([f.stems for f in en]), sig.idf([f.words for f in zh])
    ratio = np.ones_like(logit)
    for i, j in _candidates(logit, k=ORDER_CANDIDATES, floor=ORDER_FLOOR):
        ratio[i, j] = sig.order_ratio(en[i], zh[j], lexicon=lexicon, en_weights=en_w, zh_weights=zh_w)
    return -ORDER_SLOPE * np.maximum(ORDER_MID - ratio, 0.0), ratio


def _chrf_part(en_blocks: Sequence[Block], zh_blocks: Sequence[Block], logit: np.ndarray,
               translate: Callable[[list[str]], list[str]]) -> tuple[np.ndarray, dict[tuple[int, int], float]]:
    """Log-odds from chrF(MT(en), zh) for each block's best candidates; other pairs count as chrF 0."""
    import sacrebleu

    cands = _candidates(logit, k=CHRF_CANDIDATES, floor=-np.inf)
    rows = sorted({i for i, _ in cands})
    hyps = translate([en_blocks[i].text for i in rows])
    if len(hyps) != len(rows):
        raise ValueError(f"translate returned {len(hyps)} outputs for {len(rows)} inputs")
    hyp = dict(zip(rows, hyps))
    chrf = {(i, j): sacrebleu.sentence_chrf(hyp[i], [zh_blocks[j].text]).score for i, j in sorted(cands)}
    part = np.full(logit.shape, CHRF_SLOPE * (0.0 - CHRF_MID))
    for (i, j), value in chrf.items():
        part[i, j] = CHRF_SLOPE * (value - CHRF_MID)
    return part, chrf


def _assign(logit: np.ndarray, threshold: float) -> list[tuple[int, int, float]]:
    """One-to-one pairs above ``threshold`` that beat every unexplained rival by MARGIN.

    Returns ``(i, j, margin)`` triples.
    """
    from scipy.optimize import linear_sum_assignment

    rows, cols = linear_sum_assignment(np.maximum(logit, 0.0), maximize=True)
    chosen = {(int(i), int(j)) for i, j in zip(rows, cols) if logit[i, j] >= threshold}
    partner_of_en = {i: j for i, j in chosen}
    partner_of_zh = {j: i for i, j in chosen}
    out = []
    for i, j in sorted(chosen):
        rivals = []
        for jj in range(logit.shape[1]):  # another Chinese block for this English one...
            if jj != j and not (jj in partner_of_zh and logit[partner_of_zh[jj], jj] >= logit[i, jj] + MARGIN):
                rivals.append(logit[i, jj])  # ...unless it is better explained by its own partner
        for ii in range(logit.shape[0]):
            if ii != i and not (ii in partner_of_en and logit[ii, partner_of_en[ii]] >= logit[ii, j] + MARGIN):
                rivals.append(logit[ii, j])
        margin = float(logit[i, j] - max(rivals, default=-np.inf))
        if margin >= MARGIN:
            out.append((i, j, margin))
        else:
            log.info("pairing: dropped an ambiguous pair (margin %.2f < %.2f)", margin, MARGIN)
    return out


def find_pairs(
    blocks: Sequence[Block],
    *,
    min_score: float = DEFAULT_MIN_SCORE,
    translate: Callable[[list[str]], list[str]] | None = None,
) -> list[Pair]:
    """Pair English blocks with the Chinese blocks that translate them, one to one.

    Args:
        blocks: unique blocks (``read_pages`` output); blocks of other languages are ignored.
        min_score: keep pairs whose score (the logistic of the summed log-odds) reaches this.
            The default keeps only pairs the evidence makes near-certain.
        translate: an English->Chinese MT function over a list of texts; when given, each block's
            best candidates are confirmed by chrF between the MT output and the Chinese block.

    Returns:
        Pairs in the order of their English blocks, each with its score and evidence.
    """
    if not 0.0 < min_score < 1.0:
        raise ValueError(f"min_score must be in (0, 1), got {min_score}")
    en_blocks = [b for b in blocks if b.lang == "en"]
    zh_blocks = [b for b in blocks if b.lang == "zh"]
    if not en_blocks or not zh_blocks:
        return []
    lexicon = load_lexicon()
    en = [sig.extract(b.text, lang="en", truncated=b.truncated, lexicon=lexicon) for b in en_blocks]
    zh = [sig.extract(b.text, lang="zh", truncated=b.truncated, lexicon=lexicon) for b in zh_blocks]
    parts, raw = _logit_parts(en, zh)
    logit = sum(parts.values())
    chrf: dict[tuple[int, int], float] = {}
    if translate is not None:
        parts["chrf"], chrf = _chrf_part(en_blocks, zh_blocks, logit, translate)
        logit = logit + parts["chrf"]
    threshold = math.log(min_score / (1.0 - min_score))
    pairs = []
    for i, j, margin in _assign(logit, threshold):
        evidence = _evidence(en[i], zh[j], {k: float(v[i, j]) for k, v in parts.items()},
                             {k: float(v[i, j]) for k, v in raw.items()}, margin)
        if (i, j) in chrf:
            evidence["chrf"] = round(chrf[i, j], 2)
        pairs.append(Pair(en=en_blocks[i], zh=zh_blocks[j], score=_sigmoid(float(logit[i, j])), evidence=evidence))
    return pairs


def _evidence(
    en: sig.Features, zh: sig.Features, parts: dict[str, float], raw: dict[str, float], margin: float
) -> dict[str, Any]:
    """What each signal saw for one pair, in JSON-ready form."""
    shared = sorted(a for a in zh.anchors if a in en.matchable)
    return {
        "signals": [k for k, v in parts.items() if v > 0],
        "log_odds": {k: round(v, 3) for k, v in parts.items()},
        "margin": round(margin, 3) if math.isfinite(margin) else None,
        **{k: round(v, 3) for k, v in raw.items()},
        "anchors_shared": shared,
        "anchors_zh_only": sorted(a for a in zh.anchors if a not in en.matchable),
        "anchors_en_only": sorted(a for a in en.anchors if a not in zh.matchable),
        "length_ratio": round(zh.n_chars / max(en.n_chars, 1), 3),
    }
