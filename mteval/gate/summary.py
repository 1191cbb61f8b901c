"""The gate's Markdown summary (for a CI step summary such as ``$GITHUB_STEP_SUMMARY``) and console table."""
from __future__ import annotations

from mteval.text.escape import md_code, md_text
from mteval.gate.decide import GateReport, MetricVerdict

STATUS = {0: "PASS", 1: "FAIL (regression)", 2: "CANNOT COMPARE"}


def _cell(text: str, limit: int = 300) -> str:
    """User text (names, paths, hypotheses, messages) safe in a Markdown line or table cell, cut to ``limit``."""
    return md_text(text, limit)


def worst_segments(report: GateReport, verdict: MetricVerdict, k: int = 3) -> list[tuple[str, float, str, str]]:
    """The ``k`` segments whose score dropped most: (id, drop, baseline hyp, current hyp)."""
    base, cur = report.baseline, report.current
    if cur is None:
        return []
    sign = 1.0 if verdict.higher_is_better else -1.0
    drops = []
    for i, (a, b) in enumerate(zip(base.segment_scores[verdict.name], cur.segment_scores[verdict.name], strict=True)):
        if a is not None and b is not None and sign * (b - a) < 0:
            drops.append((sign * (a - b), i))
    drops.sort(key=lambda t: (-t[0], t[1]))
    return [(base.ids[i], d, base.hyps[i], cur.hyps[i]) for d, i in drops[:k]]


def markdown(report: GateReport) -> str:
    """A self-contained Markdown section: verdict, per-metric table, method, worst segments."""
    base, cur, cfg = report.baseline, report.current, report.config
    lines = [f"## mteval quality gate: {STATUS[report.exit_code]}", ""]
    for role, view in (("baseline", base), ("current", cur)):
        if view is not None:
            lines.append(f"- {role}: {md_code(view.label)} ({_cell(view.system)}, {_cell(view.dataset)} "
                         f"{_cell(view.direction)}, {len(view.ids)} segments)")
    lines.append("")
    if report.refused is not None:
        lines += [f"**Refused:** {_cell(report.refused)}", "",
                  "The runs must share the dataset, the segment ids, sources, references and every metric "
                  "signature; if the change is intended, make the baseline again with "
                  "`mteval-gate --write-baseline`.", ""]
        return "\n".join(lines)
    lines += ["| metric | baseline | current | effect | min effect | p (one-sided) | 95% CI of effect | verdict |",
              "|---|---:|---:|---:|---:|---:|---|---|"]
    for v in report.verdicts:
        arrow = "↑" if v.higher_is_better else "↓"
        lines.append(f"| {_cell(v.name)} {arrow} | {v.baseline:.4f} | {v.current:.4f} | {v.effect:+.4f} | {v.min_effect:g} | "
                     f"{v.p_value:.4f} | [{v.ci_low:+.4f}, {v.ci_high:+.4f}] | "
                     f"{'**FAIL**' if v.failed else 'pass'}: {_cell(v.reason)} |")
    lines += ["", f"Effect = current − baseline, signed so negative is worse (↓ metrics are lower-is-better). "
              f"A metric fails only when it is worse by at least its minimum effect **and** a paired bootstrap "
              f"({cfg.n_resamples} resamples, seed {cfg.seed}) gives p < {cfg.alpha:g}."]
    if report.ungated:
        lines.append(f"Not gated (no baseline or not selected): {', '.join(map(_cell, report.ungated))}.")
    for v in report.verdicts:
        if not v.failed:
            continue
        lines += ["", f"### Largest {_cell(v.name)} drops", "",
                  "| segment | drop | baseline hypothesis | current hypothesis |", "|---|---:|---|---|"]
        for seg_id, drop, a, b in worst_segments(report, v):
            lines.append(f"| {_cell(seg_id)} | {drop:.2f} | {_cell(a)} | {_cell(b)} |")
    return "\n".join(lines) + "\n"


def console(report: GateReport) -> str:
    """A short plain-text verdict for the terminal."""
    out = [f"mteval-gate: {STATUS[report.exit_code]}"]
    if report.refused is not None:
        out.append(f"  refused: {report.refused}")
    for v in report.verdicts:
        out.append(f"  {v.name:10s} {v.baseline:9.4f} -> {v.current:9.4f}  effect {v.effect:+.4f}  "
                   f"p={v.p_value:.4f}  {'FAIL' if v.failed else 'pass'}: {v.reason}")
    return "\n".join(out)
