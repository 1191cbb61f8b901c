"""The comparison as data: one wide table (a row per system) and a JSON-ready record of everything."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from mteval.compare.comparison import Comparison
from mteval.compare.partitions import partition_record
from mteval.text.checks import CHECKS

if TYPE_CHECKING:  # pandas loads where a table is built, not with every CLI that imports this module
    import pandas as pd


def system_order(comp: Comparison) -> list[int]:
    """Systems best first by the first metric (ties keep run order)."""
    first = comp.metrics[0]
    return list(np.argsort(-first.scores if first.higher_is_better else first.scores, kind="stable"))


def summary_frame(comp: Comparison) -> pd.DataFrame:
    """One row per system, best first: for every metric its score, bootstrap mean, half-width and
    95% bounds, p-values against the baseline (bootstrap and approximate randomisation) and rank
    cluster; then how many segments fail each check."""
    counts = comp.check_counts()
    rows = []
    for i in system_order(comp):
        row: dict[str, Any] = {"system": comp.names[i], "baseline": i == comp.baseline}
        for m in comp.metrics:
            iv = m.intervals[i]
            row.update({m.name: m.scores[i], f"{m.name}_mean": iv.mean, f"{m.name}_ci": iv.half_width,
                        f"{m.name}_lo": iv.lower, f"{m.name}_hi": iv.upper, f"{m.name}_p_bs": m.p_bs[i],
                        f"{m.name}_p_ar": m.p_ar[i], f"{m.name}_rank": int(m.ranks[i])})
        if comp.agreement is not None:  # the human score beside the metrics (mteval-compare --human)
            h = comp.agreement.human
            row["human"] = float(h.system[h.runs.index(i)]) if i in h.runs else None
        row.update(counts[i])
        row["run_dir"] = str(comp.runset.runs[i].path)
        rows.append(row)
    import pandas as pd

    return pd.DataFrame(rows)


def flagged_segments(comp: Comparison) -> pd.DataFrame:
    """Every failed check: system, check, segment id, detail, source, hypothesis, reference."""
    rs = comp.runset
    rows = []
    for i, per_seg in enumerate(comp.checks):
        hyps = rs.hyps(i)
        for k, flags in enumerate(per_seg):
            for check in CHECKS:
                if check in flags:
                    rows.append({"system": comp.names[i], "check": check, "id": rs.ids[k], "detail": flags[check],
                                 "src": rs.srcs[k], "hyp": hyps[k], "ref": (rs.refs[k] or [""])[0]})
    import pandas as pd

    return pd.DataFrame(rows, columns=["system", "check", "id", "detail", "src", "hyp", "ref"])


def _num(x: Any) -> Any:
    if x is None:
        return None
    return float(x) if isinstance(x, (float, np.floating)) else x


def record(comp: Comparison) -> dict[str, Any]:
    """Everything as plain JSON values: settings, per-metric results, every pair's matrices (rows and
    columns in ``systems`` order), domains and documents, checks, where the metrics disagree."""
    rs = comp.runset
    return {
        "dataset": rs.dataset, "direction": rs.direction, "n_segments": rs.n_segments,
        "baseline": comp.names[comp.baseline], "n_bootstrap": comp.n_bootstrap, "n_ar": comp.n_ar,
        "seed": comp.seed, "alpha": comp.alpha,
        "systems": [{"name": n, "system": r.system, "run_dir": str(r.path)} for n, r in zip(comp.names, rs.runs,
                                                                                           strict=True)],
        "metrics": {
            m.name: {
                "signature": m.signature, "higher_is_better": m.higher_is_better, "n_scored": m.n_scored,
                "systems": {
                    comp.names[i]: {"score": _num(m.scores[i]), "mean": m.intervals[i].mean,
                                    "ci": m.intervals[i].half_width, "lower": m.intervals[i].lower,
                                    "upper": m.intervals[i].upper, "p_bs": _num(m.p_bs[i]),
                                    "p_ar": _num(m.p_ar[i]), "rank": int(m.ranks[i])}
                    for i in range(len(comp.names))
                },
                "pairwise_p_bs": m.pairwise_p.round(6).tolist(),
                **({"pairs": m.pairs.record()} if m.pairs is not None else {}),
                "domains": {d: [float(x) for x in v] for d, v in m.domains.items()},
                "partitions": {k: partition_record(p, comp.baseline) for k, p in m.partitions.items()},
            }
            for m in comp.metrics
        },
        "checks": {n: c for n, c in zip(comp.names, comp.check_counts(), strict=True)},
        **({"human": _agreement_record(comp)} if comp.agreement is not None else {}),
        **({"disagreement": comp.disagreement.record(comp.names)} if comp.disagreement is not None else {}),
    }


def _finite(x: float) -> float | None:
    """None for an undefined statistic (a constant score list): NaN is not JSON."""
    return None if x != x else float(x)


def _agreement_record(comp: Comparison) -> dict[str, Any]:
    """The human scores as matched, and each metric's agreement statistics with their 95% intervals."""
    ag = comp.agreement
    h = ag.human
    return {
        "files": h.files, "segment_key": h.segment_key, "n_bootstrap": ag.n_bootstrap,
        "systems": {n: float(s) for n, s in zip(h.names, h.system, strict=True)},
        "runs_without_human_score": h.runs_only, "human_scores_without_run": h.human_only,
        "unmapped_segment_scores": h.unmapped, "notes": h.notes,
        "metrics": {m.name: {"higher_is_better": m.higher_is_better, "segment_cells": m.n_cells,
                             **{k: {"value": _finite(e.value), "lower": _finite(e.lower), "upper": _finite(e.upper)}
                                for k, e in m.stats.items()}}
                    for m in ag.metrics},
    }
