"""The gate's report as rows of the gate history (:mod:`mteval.results.gate_log`): one per gated metric, or the refusal."""
from __future__ import annotations

import os

from mteval.gate.decide import GateReport
from mteval.results.gate_log import GateDecision, signature_hash

_STATUS = {0: "pass", 1: "regression", 2: "refused"}


def decisions(report: GateReport, current_dir: str, *, when: str) -> list[GateDecision]:
    """What ``report`` decided about the run in ``current_dir`` (its real path, as the leaderboard's run_dir
    is matched), at ``when``."""
    base, cur = report.baseline, report.current
    about = cur or base  # a refused current run may be unreadable: name it by the baseline's data
    common = {"time": when, "status": _STATUS[report.exit_code], "dataset": about.dataset,
              "direction": about.direction, "system": cur.system if cur else "",
              "run_dir": os.path.realpath(current_dir), "baseline": base.label}
    if report.refused is not None:
        return [GateDecision(**common, reason=report.refused)]
    return [GateDecision(**common, metric=v.name, metric_sig=signature_hash(cur.metrics[v.name]["signature"]),
                         baseline_score=v.baseline, current_score=v.current, effect=v.effect,
                         min_effect=v.min_effect, p_value=v.p_value, failed=v.failed, reason=v.reason)
            for v in report.verdicts]
