"""Find the English and Chinese versions of the same abstract among seed-page blocks (issue #6)."""
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

# How: model-free signals first: lexical overlap through CC-CEDICT in both directions (as
# Hunalign does, Varga et al. 2005), whether the shared words keep their order, tokens that
# survive Google Translate verbatim (numbers, acronyms, names, URLs, LaTeX) and the length
# ratio; optionally chrF between an MT system's translation of the English block and the
# Chinese one. Each signal adds log-odds; a global one-to-one assignment (Hungarian) picks
# pairs, and only confident, unambiguous ones are kept: a wrong pair is worse than a missing one.

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
LENGTH_FREE_SD = 1.0  # ratios within 1 sd cost nothing, then LENGTH_SLOPE * (excess sd)^2
LENGTH_SLOPE = 0.75
LENGTH_CAP = 8.0
CHRF_MID = 18.0  # WMT22 en-zh, MT vs reference: translations 19 or more for 95% (median 42), others under 14 for 99%
CHRF_SLOPE = 0.3
CHRF_CANDIDATES = 3  # per block, the best model-free candidates are checked with the MT system
ORDER_MID = 0.7  # below this share of in-place overlap, a pair loses ORDER_SLOPE per unit
ORDER_SLOPE = 15.0
ORDER_FLOOR = -3.0  # pairs below this log-odds are not worth the order check...
ORDER_CANDIDATES = 5  # ...nor any beyond each block's best five
MARGIN = 1.0  # an accepted pair must beat every unexplained rival by this many log-odds
DEFAULT_MIN_SCORE = 0.9
CONTENT_SIGNALS = ("dictionary", "chrf")  # a pair needs one of these on its side


@dataclass
class Pair:
    """An English block and the Chinese block found to be its translation.

    Args:
        en: the English block.
        zh: the Chinese block.
        score: probability-like confidence in [0, 1] (the logistic of the summed log-odds).
        evidence: every signal's value and log-odds; ``signals`` names those that spoke for the
            pair, ``against`` those that spoke against it.
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
            "en_origins": [str(o) for o in self.en.origins],
            "zh_origins": [str(o) for o in self.zh.origins],
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
    parts["anchors"] = _anchor_part(en, zh)
    raw["length_z"] = z = sig.length_z(en, zh)
    parts["length"] = -np.minimum(LENGTH_SLOPE * np.maximum(np.abs(z) - LENGTH_FREE_SD, 0.0) ** 2, LENGTH_CAP)
    if lexicon is not None:
        parts["order"], raw["order"] = _order_part(en, zh, sum(parts.values()), lexicon=lexicon)
    return parts, raw


def _anchor_part(en: list[sig.Features], zh: list[sig.Features]) -> np.ndarray:
    """Log-odds from anchors: shared ones speak for a pair, ones only one side has against it.

    A shared anchor counts fully when only the pair has it, less when other blocks have it too
    (an acronym every abstract of a field uses says little). Every Latin token in a Chinese
    block should be in its source; an English name may have been translated, so it costs less.
    A truncated side may have lost its anchors, so its missing ones cost nothing.
    """
    base = sig.anchor_weights([*en, *zh])
    df = dict.fromkeys(base, 0)
    for f in (*en, *zh):
        for a in f.anchors:
            df[a] += 1
    rare = {a: w * min(1.0, 2.0 / df[a]) for a, w in base.items()}
    zh_sets, en_sets = [set(f.anchors) for f in zh], [set(f.anchors) for f in en]
    en_match, zh_match = [f.matchable for f in en], [f.matchable for f in zh]
    shared = sig.found_weight(zh_sets, en_match, weights=rare).T
    zh_only = sig.total_weight(zh_sets, weights=base)[None, :] - sig.found_weight(zh_sets, en_match, weights=base).T
    en_only = sig.total_weight(en_sets, weights=base)[:, None] - sig.found_weight(en_sets, zh_match, weights=base)
    zh_only = np.where(np.array([f.truncated for f in en])[:, None], 0.0, zh_only)
    en_only = np.where(np.array([f.truncated for f in zh])[None, :], 0.0, en_only)
    missing = np.minimum(ANCHOR_ZH_ONLY * zh_only + ANCHOR_EN_ONLY * en_only, ANCHOR_MISSING_CAP)
    return np.minimum(ANCHOR_SHARED * shared, ANCHOR_SHARED_CAP) - missing


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


def _assign(logit: np.ndarray, threshold: float, *, en: list[sig.Features],
            zh: list[sig.Features]) -> list[tuple[int, int, float]]:
    """One-to-one pairs above ``threshold`` that beat every unexplained rival by MARGIN.

    A rival is another block that could take either side's place. It is explained when its
    own accepted partner beats it by MARGIN, and harmless when it is a version of the same text
    (a truncated or lightly edited copy): either way the pair is of one paper. Returns
    ``(i, j, margin)`` triples; an ambiguous pair is dropped, as a wrong pair is worse than none.
    """
    from scipy.optimize import linear_sum_assignment

    rows, cols = linear_sum_assignment(np.maximum(logit - threshold, 0.0), maximize=True)
    chosen = {(int(i), int(j)) for i, j in zip(rows, cols) if logit[i, j] >= threshold}
    partner_of_en = {i: j for i, j in chosen}
    partner_of_zh = {j: i for i, j in chosen}
    out = []
    for i, j in sorted(chosen):
        rivals = [logit[i, jj] for jj in np.flatnonzero(logit[i] > logit[i, j] - MARGIN)
                  if jj != j and not (jj in partner_of_zh and logit[partner_of_zh[jj], jj] >= logit[i, jj] + MARGIN)
                  and not sig.same_text(zh[j], zh[jj])]
        rivals += [logit[ii, j] for ii in np.flatnonzero(logit[:, j] > logit[i, j] - MARGIN)
                   if ii != i and not (ii in partner_of_en and logit[ii, partner_of_en[ii]] >= logit[ii, j] + MARGIN)
                   and not sig.same_text(en[i], en[ii])]
        if rivals:
            log.info("pairing: dropped an ambiguous pair (a rival within %.1f log-odds)", MARGIN)
            continue
        others = np.concatenate([np.delete(logit[i], j), np.delete(logit[:, j], i)])
        out.append((i, j, float(logit[i, j] - others.max()) if others.size else math.inf))
    return out


def find_pairs(
    blocks: Sequence[Block],
    *,
    min_score: float = DEFAULT_MIN_SCORE,
    translate: Callable[[list[str]], list[str]] | None = None,
    logits: dict[tuple[str, str], float] | None = None,
) -> list[Pair]:
    """Pair English blocks with the Chinese blocks that translate them, one to one.

    Args:
        blocks: unique blocks (``read_pages`` output); blocks of other languages are ignored.
        min_score: keep pairs whose score (the logistic of the summed log-odds) reaches this.
            The default keeps only pairs the evidence makes near-certain.
        translate: an English->Chinese MT function over a list of texts; when given, each block's
            best candidates are confirmed by chrF between the MT output and the Chinese block.
        logits: when given, filled with the log-odds of every (English id, Chinese id), kept or not
            (the arXiv originals compare the versions of a paper by them: scores saturate near 1).

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
    content = [parts[k] for k in CONTENT_SIGNALS if k in parts]
    if not content:
        log.warning("pairing: no dictionary and no MT system, so no evidence on content: no pairs")
        return []
    # Anchors and length alone never make a pair: two papers of one field share acronyms.
    logit = np.where(np.maximum.reduce(content) > 0, logit, np.minimum(logit, 0.0))
    if logits is not None:
        logits.update({(e.id, z.id): float(logit[i, j]) for i, e in enumerate(en_blocks)
                       for j, z in enumerate(zh_blocks)})
    threshold = math.log(min_score / (1.0 - min_score))
    pairs = []
    for i, j, margin in _assign(logit, threshold, en=en, zh=zh):
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
    out: dict[str, Any] = {
        "signals": [k for k, v in parts.items() if v > 0],
        "against": [k for k, v in parts.items() if v < 0],
        "log_odds": {k: round(v, 3) + 0.0 for k, v in parts.items()},  # + 0.0: no "-0.0"
        "margin": round(margin, 3) if math.isfinite(margin) else None,
    }
    if "coverage" in raw:
        out["dictionary"] = {k: round(raw[k], 3) for k in ("en_covered", "zh_covered", "coverage", "lift")}
    out["anchors"] = {
        "shared": sorted(a for a in zh.anchors if a in en.matchable),
        "zh_only": sorted(a for a in zh.anchors if a not in en.matchable),
        "en_only": sorted(a for a in en.anchors if a not in zh.matchable),
    }
    out["length"] = {"ratio": round(zh.n_chars / max(en.n_chars, 1), 3), "z": round(raw["length_z"], 2)}
    if "order" in raw:
        out["order"] = round(raw["order"], 3)
    return out
