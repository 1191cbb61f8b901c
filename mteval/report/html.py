"""The comparison as one self-contained HTML file: tables, inline PNG plots, worst segments, checks."""
from __future__ import annotations

import base64
from html import escape

from mteval.compare.comparison import Comparison
from mteval.compare.table import system_order
from mteval.report import plots
from mteval.report.markdown import (
    CHECK_HEADERS,
    digits,
    fmt_score,
    metric_label,
    settings_line,
    table_cells,
)
from mteval.text.checks import CHECKS, DESCRIPTIONS

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC","Noto Sans",sans-serif;margin:1.5em auto;
max-width:1400px;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.6em 0;font-size:13px}
th,td{border:1px solid #ccc;padding:3px 7px;vertical-align:top}
th{background:#f0f0f0;position:sticky;top:0}
td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.baseline td{font-weight:bold}
tr.band td{background:#f6f9ff}
td.text{max-width:28em;white-space:pre-wrap;word-break:break-word}
.sig{color:#0a6}
.muted{color:#777;font-size:12px}
img{max-width:100%;display:block;margin:.5em 0}
code{font-size:12px}
details{margin:.4em 0}
#render-status{color:#b00}
"""

# Records in the page how many plots decoded; the browser test reads it, readers see failures.
_SCRIPT = """
window.addEventListener('load', function () {
  var imgs = document.images, ok = 0;
  for (var i = 0; i < imgs.length; i++) { if (imgs[i].complete && imgs[i].naturalWidth > 0) { ok++; } }
  document.body.setAttribute('data-images-loaded', ok + '/' + imgs.length);
  if (ok < imgs.length) {
    document.getElementById('render-status').textContent = (imgs.length - ok) + ' plot(s) failed to render';
  }
});
"""


def _img(png: bytes, alt: str) -> str:
    return f'<img alt="{escape(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}">'


def _main_table(comp: Comparison) -> str:
    header, rows = table_cells(comp)
    order = system_order(comp)
    first = comp.metrics[0]
    out = ["<table id='summary'><thead><tr>", *(f"<th>{escape(h)}</th>" for h in header), "</tr></thead><tbody>"]
    band, last_rank = False, None
    for i, cells in zip(order, rows, strict=True):
        if first.ranks[i] != last_rank:
            band, last_rank = not band, first.ranks[i]
        cls = " ".join(c for c in ("baseline" if i == comp.baseline else "", "band" if band else "") if c)
        tds = [f"<td>{escape(cells[0])}</td>"]
        for c in cells[1:]:
            mark = " class='num sig'" if c.endswith("*") else " class='num'"
            tds.append(f"<td{mark}>{escape(c)}</td>")
        out.append(f"<tr class='{cls}'>" + "".join(tds) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _primary(comp: Comparison):
    """The metric that picks the worst segments: COMET when scored, else chrF, else the first."""
    by_name = {m.name: m for m in comp.metrics}
    for name in ("comet", "cometkiwi", "chrf", "chrf++", "bleu"):
        if name in by_name:
            return by_name[name]
    return comp.metrics[0]


def _worst_segments(comp: Comparison, k: int) -> str:
    m = _primary(comp)
    rs = comp.runset
    parts = [f"<p class='muted'>The {k} segments each system scores worst on by segment-level "
             f"{escape(metric_label(m.name))}, with the source, the reference and every failed check.</p>"]
    for i in system_order(comp):
        rows = [(row.get(m.name), kk) for kk, row in enumerate(rs.runs[i].segments) if row.get(m.name) is not None]
        rows.sort(key=lambda t: t[0], reverse=not m.higher_is_better)
        hyps = rs.hyps(i)
        body = []
        for score, kk in rows[:k]:
            flags = "; ".join(f"{CHECK_HEADERS[c]}: {comp.checks[i][kk][c]}" for c in CHECKS if c in comp.checks[i][kk])
            body.append(f"<tr><td>{escape(rs.ids[kk])}</td><td>{escape(rs.domains[kk] or '')}</td>"
                        f"<td class='num'>{fmt_score(score, digits(m))}</td><td class='text'>{escape(rs.srcs[kk])}</td>"
                        f"<td class='text'>{escape(' ||| '.join(rs.refs[kk]))}</td>"
                        f"<td class='text'>{escape(hyps[kk])}</td><td>{escape(flags)}</td></tr>")
        parts.append(f"<details open><summary>{escape(comp.names[i])}</summary><table class='worst'><thead><tr>"
                     f"<th>id</th><th>domain</th><th>{escape(metric_label(m.name))}</th><th>source</th>"
                     f"<th>reference</th><th>{escape(comp.names[i])}</th><th>checks</th></tr></thead><tbody>"
                     + "".join(body) + "</tbody></table></details>")
    return "".join(parts)


def _checks(comp: Comparison, limit: int) -> str:
    counts = comp.check_counts()
    order = system_order(comp)
    head = "".join(f"<th title='{escape(DESCRIPTIONS[c])}'>{escape(CHECK_HEADERS[c])}</th>" for c in CHECKS)
    rows = "".join(f"<tr><td>{escape(comp.names[i])}</td>"
                   + "".join(f"<td class='num'>{counts[i][c]}</td>" for c in CHECKS) + "</tr>" for i in order)
    out = [f"<table id='checks'><thead><tr><th>system</th>{head}</tr></thead><tbody>{rows}</tbody></table>",
           "<ul class='muted'>" + "".join(f"<li><b>{escape(CHECK_HEADERS[c])}</b>: {escape(DESCRIPTIONS[c])}</li>"
                                          for c in CHECKS) + "</ul>"]
    rs = comp.runset
    for c in CHECKS:
        hits = [(i, kk) for i in order for kk, flags in enumerate(comp.checks[i]) if c in flags]
        if not hits:
            continue
        body = "".join(f"<tr><td>{escape(comp.names[i])}</td><td>{escape(rs.ids[kk])}</td>"
                       f"<td>{escape(comp.checks[i][kk][c])}</td><td class='text'>{escape(rs.srcs[kk])}</td>"
                       f"<td class='text'>{escape(rs.hyps(i)[kk])}</td></tr>" for i, kk in hits[:limit])
        more = f" (first {limit} shown)" if len(hits) > limit else ""
        out.append(f"<details><summary>{escape(DESCRIPTIONS[c])}: {len(hits)} segments{more}</summary>"
                   "<table><thead><tr><th>system</th><th>id</th><th>detail</th><th>source</th><th>output</th>"
                   f"</tr></thead><tbody>{body}</tbody></table></details>")
    return "".join(out)


def html_report(comp: Comparison, *, worst: int = 5, check_rows: int = 50) -> str:
    """The whole report as one HTML string with every plot inlined (no network, no files beside it)."""
    rs = comp.runset
    title = f"mteval comparison: {rs.dataset} ({rs.direction})"
    sections = [
        f"<h1>{escape(title)}</h1>",
        f"<p>{rs.n_segments} segments, {len(rs.runs)} systems, baseline <b>{escape(comp.names[comp.baseline])}</b>."
        f"<br><span class='muted'>{escape(settings_line(comp))}.</span></p><p id='render-status'></p>",
        "<h2>Scores, 95% bootstrap intervals and paired tests</h2>", _main_table(comp),
        "<p class='muted'>p bs: paired bootstrap resampling; p ar: paired approximate randomisation; both against "
        "the baseline, computed as <code>sacrebleu --paired-bs</code> / <code>--paired-ar</code> do. "
        "Rows shaded alike share a rank cluster of the first metric.</p>",
        "<h3>Signatures</h3><ul>" + "".join(f"<li>{escape(metric_label(m.name))}: <code>{escape(m.signature)}</code>"
                                              "</li>" for m in comp.metrics) + "</ul>",
        "<h2>Scores with confidence intervals</h2>", _img(plots.scores_with_ci(comp), "scores with 95% intervals"),
        "<h2>Segment score distributions</h2>", _img(plots.segment_distributions(comp), "segment distributions"),
    ]
    domains = plots.domain_scores(comp)
    if domains is not None:
        sections += ["<h2>Scores by domain</h2>", _img(domains, "scores by domain")]
    sections += ["<h2>Output checks</h2>", _checks(comp, check_rows),
                 "<h2>Worst segments</h2>", _worst_segments(comp, worst)]
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'><title>{escape(title)}</title>"
            f"<style>{_CSS}</style><script>{_SCRIPT}</script></head><body>" + "\n".join(sections)
            + "</body></html>\n")
