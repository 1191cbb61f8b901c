"""The report's segment listings as HTML: each system's worst segments beside the baseline, and failed checks."""
from __future__ import annotations

from html import escape

from mteval.compare.comparison import Comparison
from mteval.compare.table import system_order
from mteval.report.fonts import html_lang
from mteval.report.labels import CHECK_HEADERS, digits, fmt_score, metric_label
from mteval.report.spans import marked, spans_metric
from mteval.report.worst import MIN_LENGTH, worst_segments
from mteval.text.checks import CHECKS, CJK_TARGETS, DESCRIPTIONS
from mteval.types import Direction


def _text(text: str, lang: str, cls: str = "text") -> str:
    """A table cell of running text in ``lang`` (browsers pick the font and line breaking by it)."""
    return f"<td class='{cls}' lang='{escape(html_lang(lang))}'>{escape(text)}</td>"


def _hyp(text: str, lang: str, spans: list | None, cls: str = "text", lead: str = "") -> str:
    """A hypothesis cell, with its error spans marked when the run has them."""
    return f"<td class='{cls}' lang='{escape(html_lang(lang))}'>{lead}{marked(text, spans)}</td>"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _langs(comp: Comparison) -> tuple[str, str]:
    langs = Direction.parse(comp.runset.direction)
    return langs.src, langs.tgt


def worst_section(comp: Comparison, k: int) -> str:
    """Per system (table order), ``k`` of its worst segments (see :func:`worst_segments`), each beside
    the baseline's output on the same segment (shaded where the baseline did better)."""
    m, picks = worst_segments(comp, k)
    rs = comp.runset
    src_lang, tgt_lang = _langs(comp)
    label, d = escape(metric_label(m.name)), digits(m)
    base = comp.names[comp.baseline]
    unit = f"{MIN_LENGTH['cjk']} characters" if tgt_lang in CJK_TARGETS else f"{MIN_LENGTH['words']} words"
    length = "" if m.model_based else f" among references of at least {unit}"
    spans_of = spans_metric(comp)
    marks = "" if spans_of is None else (
        f" Outputs show the error spans {escape(metric_label(spans_of))} marks: <mark class='minor'>minor</mark>, "
        "<mark class='major'>major</mark>, <mark class='critical'>critical</mark> (hover for its confidence).")
    parts = [f"<p class='muted'>Per system, {k} segments{length} from the quarter it scores lowest on by "
             f"segment-level {label}: those where it falls furthest below the median of all systems on the same "
             "segment, each source sentence shown for one system only. Beside it, the baseline "
             f"{escape(base)}'s output on that segment (for the baseline itself, the best other system's), shaded "
             "green where it scored better." + marks + "</p>"]
    for i in system_order(comp):
        hyps = rs.hyps(i)
        spans = _spans(comp, spans_of, i)
        is_base = i == comp.baseline
        other_head = "best other system" if is_base else escape(base)
        body = []
        for w in picks[i]:
            s = w.seg
            better = (w.other_score > w.score) if m.higher_is_better else (w.other_score < w.score)
            shade = " better" if better else ""
            flags = "; ".join(f"{CHECK_HEADERS[c]}: {comp.checks[i][s][c]}" for c in CHECKS if c in comp.checks[i][s])
            who = f"<span class='who'>{escape(comp.names[w.other])}</span>" if is_base else ""
            body.append(
                f"<tr><td>{escape(rs.ids[s])}<br><span class='muted'>{escape(rs.domains[s] or '')}</span></td>"
                f"<td class='num'>{fmt_score(w.score, d)}</td><td class='num{shade}'>{fmt_score(w.other_score, d)}"
                f"</td><td class='num muted'>{fmt_score(w.median, d)}</td>{_text(rs.srcs[s], src_lang)}"
                f"{_text(' ||| '.join(rs.refs[s]), tgt_lang)}{_hyp(hyps[s], tgt_lang, spans[s])}"
                f"{_hyp(rs.hyps(w.other)[s], tgt_lang, _spans(comp, spans_of, w.other)[s], f'text{shade}', who)}"
                f"<td>{escape(flags)}</td></tr>")
        name = escape(comp.names[i])
        parts.append(f"<details open><summary>{name}{' (baseline)' if is_base else ''}</summary>"
                     "<table class='worst'><thead><tr><th>id, domain</th>"
                     f"<th>{label}<br>{name}</th><th>{label}<br>{other_head}</th><th>{label}<br>median</th>"
                     f"<th>source</th><th>reference</th><th>{name}</th><th>{other_head}</th><th>checks</th></tr>"
                     "</thead><tbody>" + "".join(body) + "</tbody></table></details>")
    return "".join(parts)


def _spans(comp: Comparison, metric: str | None, i: int) -> list:
    """Run ``i``'s error spans per segment under ``metric`` (all None without one)."""
    found = None if metric is None else comp.runset.runs[i].error_spans(metric)
    return found if found is not None else [None] * comp.runset.n_segments


def checks_section(comp: Comparison, per_system: int, csv_href: str | None) -> str:
    """The check counts, then per check its failing segments grouped by system, most affected
    system first, ``per_system`` rows each; every failure is in ``checks.csv``."""
    counts = comp.check_counts()
    order = system_order(comp)
    rs = comp.runset
    src_lang, tgt_lang = _langs(comp)
    head = "".join(f"<th title='{escape(DESCRIPTIONS[c])}'>{escape(CHECK_HEADERS[c])}</th>" for c in CHECKS)
    rows = "".join(f"<tr><td>{escape(comp.names[i])}</td>"
                   + "".join(f"<td class='num'>{counts[i][c]}</td>" for c in CHECKS) + "</tr>" for i in order)
    link = f"<a href='{escape(csv_href)}'>checks.csv</a>" if csv_href else "checks.csv"
    out = [f"<table id='checks'><thead><tr><th>system</th>{head}</tr></thead><tbody>{rows}</tbody></table>",
           "<ul class='muted'>" + "".join(f"<li><b>{escape(CHECK_HEADERS[c])}</b>: {escape(DESCRIPTIONS[c])}</li>"
                                          for c in CHECKS) + "</ul>",
           f"<p class='muted'>Every failed check, with source, output and reference: {link}.</p>"]
    for c in CHECKS:
        # Most affected system first; ties keep table order (sorted is stable).
        systems = sorted((i for i in order if counts[i][c]), key=lambda i: -counts[i][c])
        if not systems:
            continue
        total = sum(counts[i][c] for i in systems)
        body = []
        for i in systems:
            hits = [kk for kk, flags in enumerate(comp.checks[i]) if c in flags]
            shown = f" ({per_system} shown)" if len(hits) > per_system else ""
            body.append(f"<tr class='group'><th colspan='4'>{escape(comp.names[i])}: "
                        f"{_count(len(hits), 'segment')}{shown}</th></tr>")
            body += [f"<tr><td>{escape(rs.ids[kk])}</td><td>{escape(comp.checks[i][kk][c])}</td>"
                     f"{_text(rs.srcs[kk], src_lang)}{_text(rs.hyps(i)[kk], tgt_lang)}</tr>"
                     for kk in hits[:per_system]]
        worst = systems[0]
        out.append(f"<details><summary>{escape(DESCRIPTIONS[c])}: {_count(total, 'segment')} in "
                   f"{_count(len(systems), 'system')}, most in {escape(comp.names[worst])} "
                   f"({counts[worst][c]})</summary><table class='check-list'><thead><tr><th>id</th><th>detail</th>"
                   "<th>source</th><th>output</th></tr></thead><tbody>" + "".join(body) + "</tbody></table></details>")
    return "".join(out)
