"""The report's segment browser: every segment and system as compact JSON, with the page script that pages through it."""
from __future__ import annotations

import json
from importlib import resources
from typing import Any

from mteval.compare.comparison import Comparison
from mteval.compare.table import system_order
from mteval.metrics.spans import SEVERITIES
from mteval.report.fonts import html_lang
from mteval.report.labels import CHECK_HEADERS, digits, metric_label
from mteval.text.checks import CHECKS, DESCRIPTIONS
from mteval.types import Direction

ROWS_PER_PAGE = 50


def asset(name: str) -> str:
    """A file shipped beside this module in ``assets/`` (the page's own script and style, no build step)."""
    return resources.files("mteval.report").joinpath("assets", name).read_text(encoding="utf-8")


def _labels(values: list[str | None]) -> tuple[list[str], list[int]]:
    """Distinct non-empty values (first-seen order) and each position's index into them, -1 where empty."""
    names: dict[str, int] = {}
    for v in values:
        if v and v not in names:
            names[v] = len(names)
    return list(names), [names[v] if v else -1 for v in values]


def _round(x: Any, n: int) -> float | None:
    return None if x is None else round(float(x), n)


def _spans(comp: Comparison) -> list[dict[str, Any]]:
    """Per metric that stored error spans (XCOMET, an LLM judge), per system the segments that have
    some: ``{seg: [[start, end, severity index, confidence or null, category or null], ...]}``."""
    out = []
    for m in comp.metrics:
        per_sys = [run.error_spans(m.name) for run in comp.runset.runs]
        if all(p is None for p in per_sys):
            continue
        out.append({"label": metric_label(m.name), "sys": [
            {str(k): [[s["start"], s["end"], SEVERITIES.index(s["severity"]) if s["severity"] in SEVERITIES else 0,
                       s.get("confidence"), s.get("category")] for s in spans]
             for k, spans in enumerate(p or []) if spans} for p in per_sys]})
    return out


def _judgements(comp: Comparison) -> list[dict[str, Any]]:
    """Per LLM-judge metric, per system: ``{seg: [[severity, category, span], ...]}``, all its errors
    (omissions marked in the source too), or ``{seg: "problem"}`` where its answer was refused."""
    out = []
    for m in comp.metrics:
        key = f"{m.name}_annotation"
        if not any(key in row for run in comp.runset.runs for row in run.segments[:1]):
            continue
        per_sys = []
        for run in comp.runset.runs:
            found: dict[str, Any] = {}
            for k, row in enumerate(run.segments):
                a = row.get(key)
                if isinstance(a, dict) and a.get("errors"):
                    found[str(k)] = [[e["severity"], e["category"], e["span"]] for e in a["errors"]]
                elif isinstance(a, dict) and a.get("unparsable"):
                    found[str(k)] = f"answer refused ({a['unparsable']}): {a.get('problem', '')}"
            per_sys.append(found)
        out.append({"label": metric_label(m.name), "sys": per_sys})
    return out


def segment_data(comp: Comparison) -> dict[str, Any]:
    """Everything the browser shows, each text once: sources, references, every system's outputs,
    segment scores per metric (rounded as the report prints them), failed checks, error spans."""
    rs = comp.runset
    langs = Direction.parse(rs.direction)
    domains, dom = _labels(rs.domains)
    docs, doc = _labels([row.get("doc_id") for row in rs.first.segments])
    metrics = []
    for m in comp.metrics:
        d = digits(m)
        metrics.append({"label": metric_label(m.name), "hib": bool(m.higher_is_better), "d": d,
                        "s": [[_round(x, d) for x in run.segment_scores(m.name)] for run in rs.runs]})
    flags = [[[k, CHECKS.index(c), detail] for k, found in enumerate(per_seg) for c, detail in found.items()
              if c in CHECKS] for per_seg in comp.checks]
    return {"sys": list(rs.names), "order": [int(i) for i in system_order(comp)], "base": comp.baseline,
            "lang": [html_lang(langs.src), html_lang(langs.tgt)], "ids": list(rs.ids), "src": list(rs.srcs),
            "ref": [" ||| ".join(r) for r in rs.refs], "domains": domains, "dom": dom, "docs": docs, "doc": doc,
            "hyp": [rs.hyps(i) for i in range(len(rs.runs))], "metrics": metrics,
            "checks": [[CHECK_HEADERS[c], DESCRIPTIONS[c]] for c in CHECKS], "flags": flags,
            "spans": _spans(comp), "judge": _judgements(comp), "severities": list(SEVERITIES), "page": ROWS_PER_PAGE}


def _json_for_script(data: dict[str, Any]) -> str:
    """JSON safe inside <script>: "<" escaped, so no "</script>" or "<!--" in a text can end it."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def browser_section(comp: Comparison) -> str:
    """The browser's controls, its (empty) table and pager, the data, and its script; the script renders
    the first page when the document is parsed."""
    n = comp.runset.n_segments
    return (f"<p class='muted'>All {n} segments of all {len(comp.runset.runs)} systems, {ROWS_PER_PAGE} per page. "
            "Pick two systems A and B; filter by domain, document or failed check; search the source, reference "
            "and outputs; sort by a metric or by the difference B &minus; A. <b>Open</b> shows every system's output "
            "for the segment, with its scores and the error spans each span-marking metric found.</p>"
            "<div id='segments' class='segments'><form class='controls' id='seg-controls' role='search' "
            "onsubmit='return false'></form><p id='seg-count' class='muted' aria-live='polite'></p>"
            "<div class='scroll'><table id='seg-table'><thead></thead><tbody></tbody></table></div>"
            "<nav class='pager' id='seg-pager' aria-label='segment pages'></nav></div>"
            f"<script type='application/json' id='seg-data'>{_json_for_script(segment_data(comp))}</script>"
            f"<script>{asset('segments.js')}</script>")
