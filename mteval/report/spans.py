"""Error spans in the HTML report: hypotheses with minor/major/critical spans marked, and counts per system."""
from __future__ import annotations

from html import escape
from typing import Any

from mteval.compare.comparison import Comparison
from mteval.compare.table import system_order
from mteval.report.labels import metric_label
from mteval.metrics.spans import SEVERITIES, severity_counts

CSS = ("mark{border-radius:2px;padding:0 1px}mark.minor{background:#fff2a8}mark.major{background:#ffc078}"
       "mark.critical{background:#ff8080}")


def spans_metric(comp: Comparison) -> str | None:
    """The first compared metric whose runs all stored error spans (XCOMET), or None."""
    for m in comp.metrics:
        if all(run.error_spans(m.name) is not None for run in comp.runset.runs):
            return m.name
    return None


def marked(text: str, spans: list[dict[str, Any]] | None) -> str:
    """``text`` escaped, with each span in a ``<mark class=severity>`` titled with its severity, category and
    confidence. Overlapping spans (not produced by XCOMET) keep the first; empty ones are skipped."""
    out, at = [], 0
    for s in sorted(spans or [], key=lambda s: (s["start"], s["end"])):
        start, end = max(s["start"], at), min(s["end"], len(text))
        if end <= start:
            continue
        severity = s["severity"] if s["severity"] in SEVERITIES else "minor"
        title = severity + (f", confidence {float(s['confidence']):.2f}" if "confidence" in s else "") + (
            f", {s['category']}" if s.get("category") else "")  # an LLM judge gives a category, no confidence
        out.append(escape(text[at:start]))
        out.append(f"<mark class='{severity}' title='{escape(title)}'>{escape(text[start:end])}</mark>")
        at = end
    out.append(escape(text[at:]))
    return "".join(out)


def counts(comp: Comparison, metric: str) -> list[tuple[str, list[str]]]:
    """Per system (table order): its name and the cells minor, major, critical, all, segments with
    errors / scored, spans per 100 scored segments (shared by the HTML and Markdown reports)."""
    out = []
    for i in system_order(comp):
        per_seg = comp.runset.runs[i].error_spans(metric) or []
        scored = sum(1 for spans in per_seg if spans is not None)
        c = severity_counts(per_seg)
        total = sum(c[s] for s in SEVERITIES)
        rate = f"{100 * total / scored:.1f}" if scored else "–"
        out.append((comp.names[i], [*(str(c[s]) for s in SEVERITIES), str(total),
                                    f"{c['segments_with_errors']} / {scored}", rate]))
    return out


COUNT_HEADERS = [*SEVERITIES, "all", "segments with errors", "per 100 segments"]


def counts_section(comp: Comparison, metric: str) -> str:
    """The counts as an HTML table, the severities coloured as in the marked segments."""
    head = "".join(f"<th><mark class='{s}'>{s}</mark></th>" for s in SEVERITIES)
    rows = [f"<tr><td>{escape(name)}</td>" + "".join(f"<td class='num'>{escape(c)}</td>" for c in cells) + "</tr>"
            for name, cells in counts(comp, metric)]
    return (f"<p class='muted'>Error spans that {escape(metric_label(metric))} marks in each system's output, by "
            "severity (the worst segments below show them in place).</p><table id='error-spans'><thead><tr>"
            f"<th>system</th>{head}<th>all</th><th>segments with errors</th><th>per 100 segments</th></tr></thead>"
            "<tbody>" + "".join(rows) + "</tbody></table>")
