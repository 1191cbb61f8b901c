"""The comparison as one self-contained HTML file: tables, inline PNG plots, worst segments, checks."""
from __future__ import annotations

import base64
import re
from html import escape

from mteval.compare.comparison import Comparison
from mteval.compare.table import system_order
from mteval.report import partitions, plots, spans
from mteval.report.browser import asset, browser_section
from mteval.report.fonts import INSTALL_HINT, css_stack
from mteval.report.html_segments import checks_section, worst_section
from mteval.report.human import agreement_html
from mteval.report.labels import CHECK_HEADERS, metric_label
from mteval.report.disagree import disagreement_html, shift_mark
from mteval.report.pairs import pairs_html
from mteval.report.markdown import settings_line, table_cells
from mteval.text.checks import CHECKS, DESCRIPTIONS

_CSS = (
    "body{font-family:" + css_stack(cjk_first=False) + ";margin:1.5em auto;max-width:1400px;padding:0 1em;"
    "color:#222}"
    # Chinese cells put the CJK face first: its punctuation and digits then match the characters.
    ":lang(zh),:lang(ja){font-family:" + css_stack(cjk_first=True) + "}"
    """
table{border-collapse:collapse;margin:.6em 0;font-size:13px}
th,td{border:1px solid #ccc;padding:3px 7px;vertical-align:top}
th{background:#f0f0f0;position:sticky;top:0}
td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.baseline td{font-weight:bold}
tr.band td{background:#f6f9ff}
td.text{max-width:28em;white-space:pre-wrap;word-break:break-word}
table.worst td.text{max-width:20em}
td.better{background:#e3f4dc}
tr.group th{text-align:left;background:#fafafa;position:static}
.who{color:#777;font-size:11px;display:block}
.sig{color:#0a6}
.muted{color:#777;font-size:12px}
img{max-width:100%;display:block;margin:.5em 0}
code{font-size:12px}
details{margin:.4em 0}
summary{cursor:pointer}
#render-status{color:#b00}
""" + spans.CSS)

# Records in the page how many plots decoded and whether Chinese glyphs are real (distinct shapes)
# or one repeated "tofu" box, as ``data-images-loaded`` and ``data-cjk-glyphs`` on <body>; the
# browser test reads them, and readers see the failure in #render-status.
_SCRIPT = """
function cjkGlyphs() {
  var cells = document.querySelectorAll('[lang|="zh"],[lang|="ja"]'), chars = [], seen = {};
  for (var c = 0; c < cells.length && chars.length < 24; c++) {
    var t = cells[c].textContent;
    for (var k = 0; k < t.length && chars.length < 24; k++) {
      var ch = t.charAt(k);
      if (/[\\u4e00-\\u9fff]/.test(ch) && !seen[ch]) { seen[ch] = 1; chars.push(ch); }
    }
  }
  if (!chars.length) { return null; }
  var canvas = document.createElement('canvas'), ctx = canvas.getContext('2d'), shapes = {};
  canvas.width = canvas.height = 40;
  ctx.font = '32px ' + getComputedStyle(cells[0]).fontFamily;
  ctx.textBaseline = 'top';
  for (var i = 0; i < chars.length; i++) {
    ctx.clearRect(0, 0, 40, 40);
    ctx.fillText(chars[i], 2, 2);
    var px = ctx.getImageData(0, 0, 40, 40).data, bits = '';
    for (var p = 3; p < px.length; p += 4) { bits += px[p] > 127 ? '1' : '0'; }
    shapes[bits] = 1;
  }
  return [Object.keys(shapes).length, chars.length];
}
window.addEventListener('load', function () {
  if (location.hash === '#all') {  // every listing opened, for printing and full screenshots
    var ds = document.querySelectorAll('details');
    for (var d = 0; d < ds.length; d++) { ds[d].open = true; }
  }
  var imgs = document.images, ok = 0, problems = [];
  for (var i = 0; i < imgs.length; i++) { if (imgs[i].complete && imgs[i].naturalWidth > 0) { ok++; } }
  document.body.setAttribute('data-images-loaded', ok + '/' + imgs.length);
  if (ok < imgs.length) { problems.push((imgs.length - ok) + ' plot(s) failed to render'); }
  var glyphs = cjkGlyphs();
  if (glyphs) {
    document.body.setAttribute('data-cjk-glyphs', glyphs[0] + '/' + glyphs[1]);
    if (glyphs[0] * 2 < glyphs[1]) {
      problems.push('Chinese text is drawn as empty boxes: this browser has no CJK font; """ + INSTALL_HINT + """');
    }
  }
  document.getElementById('render-status').textContent = problems.join('; ');
  document.body.setAttribute('data-page-height', document.documentElement.scrollHeight);
});
"""


def _img(png: bytes, alt: str) -> str:
    return f'<img alt="{escape(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}">'


def _main_table(comp: Comparison) -> str:
    """The ranked table, sortable by any column (the header buttons, by mouse or keyboard). So that it fits
    1000 px, the check counts and the intervals (and ``p ar`` with more than two metrics) fold into a details
    row under each system; on wide screens the intervals show in the row too (CSS class ``fold``), with up to
    two metrics (class ``many`` keeps them folded)."""
    header, rows = table_cells(comp)
    order = system_order(comp)
    first = comp.metrics[0]
    per_metric = ["num", "fold", "num", "fold" if len(comp.metrics) > 2 else "num", "num"]
    kinds = ["text"] + per_metric * len(comp.metrics) + ["check"] * len(CHECKS)
    heads = "".join(f"<th scope='col' class='{k}' aria-sort='none'><button type='button'>{escape(h)}</button></th>"
                    for h, k in zip(header, kinds, strict=True) if k != "check")
    many = " many" if len(comp.metrics) > 2 else ""
    out = [f"<div class='scroll'><table id='summary' class='sortable{many}'><thead><tr>{heads}<th scope='col' "
           "class='num' aria-sort='none'><button type='button'>checks</button></th></tr></thead>"]
    band, last_rank = False, None
    counts = comp.check_counts()
    for n, (i, cells) in enumerate(zip(order, rows, strict=True)):
        if first.ranks[i] != last_rank:
            band, last_rank = not band, first.ranks[i]
        cls = " ".join(c for c in ("baseline" if i == comp.baseline else "", "band" if band else "") if c)
        tds = [f"<td data-v='{escape(comp.names[i])}'>{escape(cells[0])}{shift_mark(comp, i)}</td>"]
        for c, k in zip(cells[1:], kinds[1:], strict=True):
            if k != "check":
                mark = " sig" if c.endswith("*") else ""
                tds.append(f"<td class='{k}{mark}' data-v='{escape(_sort_value(c))}'>{escape(c)}</td>")
        failed = sum(counts[i].values())
        tds.append(f"<td class='num' data-v='{failed}'>{failed} <button type='button' class='more' "
                   f"aria-expanded='false' aria-controls='more-{n}' title='intervals and checks'>details</button></td>")
        folded = [f"{escape(header[1 + col])}: " + " · ".join(
            f"{escape(metric_label(m.name))} {escape(cells[1 + 5 * j + col])}" for j, m in enumerate(comp.metrics))
            for col in range(5) if per_metric[col] == "fold"]
        checks = " · ".join(f"<abbr title='{escape(DESCRIPTIONS[c])}'>{escape(CHECK_HEADERS[c])}</abbr> {counts[i][c]}"
                            for c in CHECKS)
        out.append(f"<tbody data-order='{n}'><tr class='{cls}'>" + "".join(tds) + "</tr>"
                   f"<tr class='more' id='more-{n}' hidden><td colspan='{len(tds)}'>" + "<br>".join(folded)
                   + f"<br>segments failing each check: {checks}</td></tr></tbody>")
    out.append("</table></div>")
    return "".join(out)


def _sort_value(cell: str) -> str:
    """A cell's number to sort by (an interval by its lower bound); empty for none."""
    number = re.match(r"-?\d+(?:\.\d+)?", cell)
    return number.group(0) if number else ""


def _spans_section(comp: Comparison) -> list[str]:
    metric = spans.spans_metric(comp)
    return [] if metric is None else ["<h2>Error spans by severity</h2>", spans.counts_section(comp, metric)]


def html_report(comp: Comparison, *, worst: int = 5, check_rows: int = 10,
                checks_href: str | None = "checks.csv") -> str:
    """The whole report as one HTML string with every plot inlined (no network; ``checks_href``, the
    one link, points at the checks.csv written beside it).

    Args:
        worst: worst segments shown per system.
        check_rows: failing segments shown per system and check.
        checks_href: where checks.csv is, relative to the page; None for no link.
    """
    rs = comp.runset
    base = escape(comp.names[comp.baseline])
    title = f"mteval comparison: {rs.dataset} ({rs.direction})"
    sections = [
        f"<h1>{escape(title)}</h1>",
        f"<p>{rs.n_segments} segments, {len(rs.runs)} systems, baseline <b>{base}</b>."
        f"<br><span class='muted'>{escape(settings_line(comp))}.</span></p><p id='render-status'></p>",
        "<h2>Scores, 95% bootstrap intervals and paired tests</h2>", _main_table(comp),
        "<p class='muted'>p bs: paired bootstrap resampling; p ar: paired approximate randomisation; both against "
        "the baseline, computed as <code>sacrebleu --paired-bs</code> / <code>--paired-ar</code> do. "
        "Rows shaded alike share a rank cluster of the first metric. Sort by a column with its header (click, or "
        "Tab to it and press Enter); <b>details</b> unfolds a system's intervals and check counts.</p>",
        "<h3>Signatures</h3><ul>" + "".join(f"<li>{escape(metric_label(m.name))}: <code>{escape(m.signature)}</code>"
                                              "</li>" for m in comp.metrics) + "</ul>",
        "<h2>Scores with confidence intervals</h2>", _img(plots.scores_with_ci(comp), "scores with 95% intervals"),
    ]
    sections += partitions.html_sections(comp)
    if comp.agreement is not None:
        sections += ["<h2>Agreement with human scores</h2>", agreement_html(comp.agreement),
                     _img(plots.metric_vs_human(comp), "metric against human scores")]
    sections += [*pairs_html(comp), *disagreement_html(comp)]  # issue 22 items 1 and 3
    sections += [f"<h2>Segments better, the same and worse than {base}</h2>",
                 _img(plots.win_tie_loss(comp), "segments against the baseline"),
                 *_spans_section(comp), "<h2>Worst segments</h2>", worst_section(comp, worst),
                 "<h2 id='browse'>Every segment</h2>", browser_section(comp),
                 "<h2>Output checks</h2>", checks_section(comp, check_rows, checks_href)]
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'><title>{escape(title)}</title>"
            f"<style>{_CSS}{asset('report.css')}</style><script>{_SCRIPT}{asset('table.js')}</script></head><body>" + "\n".join(sections)
            + "</body></html>\n")
