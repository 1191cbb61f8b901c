"""Over-long metric inputs: measured as the model sees them, scored by sentence pairs, or counted and reported."""
from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from mteval.signature import Signature
from mteval.metrics.spans import FIELD, merge_units
from mteval.types import MetricResult

log = logging.getLogger(__name__)

Pairs = Sequence[tuple[str, str]]


@dataclass
class UnitPlan:
    """What a metric's model is given: one unit per segment, or one per sentence pair of an over-long one.

    ``owner[k]`` is the segment of unit ``k`` and ``weight[k]`` its length in model tokens (a
    segment scored by sentences gets their length-weighted mean). ``limit`` is None when the
    metric reads inputs of any length (nothing was measured).
    """

    hyps: list[str]
    refs: list[list[str]]
    srcs: list[str] | None
    owner: list[int]
    weight: list[int]
    n_segments: int
    limit: int | None = None
    splits: bool = False
    over: list[int] = field(default_factory=list)
    by_sentences: list[int] = field(default_factory=list)
    truncated: list[int] = field(default_factory=list)
    seg_hyps: list[str] = field(default_factory=list)  # the segments' own hypotheses (units' spans map onto them)

    def collapse(self, result: MetricResult, *, positions: Sequence[int]) -> None:
        """Turn unit scores back into segment scores, and record the limit, the policy and the counts.

        ``positions`` maps this plan's segments to corpus positions (for the report).
        """
        if self.limit is None:
            return
        if self.by_sentences and result.segment_scores is not None:
            sums = [0.0] * self.n_segments
            weights = [0] * self.n_segments
            for k, s in enumerate(result.segment_scores):
                if s is not None:
                    sums[self.owner[k]] += s * max(1, self.weight[k])
                    weights[self.owner[k]] += max(1, self.weight[k])
            segs: list[float | None] = [sums[j] / weights[j] if weights[j] else None for j in range(self.n_segments)]
            result.segment_scores = segs
            scored = [s for s in segs if s is not None]
            result.score = sum(scored) / len(scored)  # the corpus score stays the mean of the segment scores
            if result.segment_extra and FIELD in result.segment_extra:
                result.segment_extra[FIELD] = merge_units(result.segment_extra[FIELD], self.hyps, self.owner,
                                                          self.seg_hyps)
        # The signature names the policy, which is the same for every run of this metric; the counts
        # differ between systems (a longer translation), so they go in the result, not the signature.
        result.signature = str(Signature.parse(result.signature) + Signature.of(
            max_input_tokens=self.limit, long_inputs="sentences" if self.splits else "truncate"))
        result.extra["long_inputs"] = {
            "limit": self.limit,
            "over_limit": len(self.over),
            "by_sentences": len(self.by_sentences),
            "truncated": len(self.truncated),
            "by_sentences_at": [positions[j] for j in self.by_sentences],
            "truncated_at": [positions[j] for j in self.truncated],
        }


def plan_units(
    metric: Any, hyps: list[str], refs: list[list[str]], srcs: list[str] | None, pairs: Sequence[Pairs | None] | None
) -> UnitPlan:
    """Measure each segment's model input; replace an over-long one by its sentence pairs where the
    metric allows it (reference-free) and the system kept them, else leave it to be cut and count it.

    A sentence pair still over the limit is cut by the model too, and its segment is counted as
    truncated as well as scored by sentences.
    """
    n = len(hyps)
    plan = UnitPlan(hyps, refs, srcs, list(range(n)), [0] * n, n)
    measured = metric.measure_inputs(hyps, refs, srcs)
    if measured is None:
        return plan
    limit, lengths = measured
    plan.limit, plan.splits, plan.weight = limit, bool(metric.splits_by_sentences), list(lengths)
    plan.over = [j for j, length in enumerate(lengths) if length > limit]
    expand: dict[int, list[tuple[str, str]]] = {}
    if plan.splits and pairs is not None:
        for j in plan.over:
            kept = [(s, h) for s, h in (pairs[j] or []) if s.strip() or h.strip()]
            if len(kept) > 1:
                expand[j] = kept
    flat = [p for j in sorted(expand) for p in expand[j]]
    pair_lengths = iter(metric.measure_inputs([h for _, h in flat], [[] for _ in flat], [s for s, _ in flat])[1]
                        if flat else [])
    units_h: list[str] = []
    units_r: list[list[str]] = []
    units_s: list[str] = []
    owner: list[int] = []
    weight: list[int] = []
    for j in range(n):
        if j not in expand:
            units_h.append(hyps[j])
            units_r.append(refs[j])
            units_s.append("" if srcs is None else srcs[j])
            owner.append(j)
            weight.append(lengths[j])
            if j in plan.over:
                plan.truncated.append(j)
            continue
        plan.by_sentences.append(j)
        cut = False
        for s, h in expand[j]:
            length = next(pair_lengths)
            cut = cut or length > limit
            units_h.append(h)
            units_r.append([])
            units_s.append(s)
            owner.append(j)
            weight.append(length)
        if cut:
            plan.truncated.append(j)
    plan.seg_hyps = list(hyps)
    plan.hyps, plan.refs, plan.srcs = units_h, units_r, (None if srcs is None else units_s)
    plan.owner, plan.weight = owner, weight
    return plan
