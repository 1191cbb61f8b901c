"""Where the metrics disagree, in Markdown and HTML: rank correlations, moving systems, the main table's marker."""
from __future__ import annotations

from html import escape

from mteval.compare.comparison import Comparison
from mteval.compare.disagreement import Disagreement
from mteval.report.labels import metric_label, pipe_table
from mteval.text.escape import md_text

#: The marker beside a flagged system's name in the main table.
SHIFT_SIGN = "\u21c5"


def _corr(x: float) -> str:
    return "n/a" if x != x else f"{x:.3f}"


def shift_note(comp: Comparison, i: int) -> str | None:
    """Why system ``i`` is flagged ("place 6 by chrF, place 8 by BLEU"), or None when it is not."""
    d = comp.disagreement
    if d is None or i not in d.flagged:
        return None
    return ", ".join(f"place {p} by {metric_label(name)}" for name, p in d.places_of(i))


def shift_mark(comp: Comparison, i: int) -> str:
    """HTML to put after system ``i``'s name in the main table: a marker with the places as its
    tooltip when the metrics rank the system far apart, else nothing."""
    note = shift_note(comp, i)
    if note is None:
        return ""
    text = f"metrics disagree on this system: {note}"
    return (f" <span class='rank-shift' style='color:#b35900;cursor:help' title='{escape(text)}' "
            f"aria-label='{escape(text)}'>{SHIFT_SIGN}</span>")


def _rows(comp: Comparison, d: Disagreement) -> tuple[list[str], list[list[str]]]:
    """The flagged systems: place (and rank cluster) under each metric, and the spread."""
    header = ["system", *(f"{metric_label(m.name)} place (cluster)" for m in comp.metrics), "spread"]
    rows = [[comp.names[i], *(f"{d.places[k, i]} ({m.ranks[i]})" for k, m in enumerate(comp.metrics)),
             str(d.spread[i])] for i in d.flagged]
    return header, rows


def _summary(comp: Comparison, d: Disagreement) -> str:
    if d.flagged:
        return (f"Systems whose place differs by {d.min_shift} or more between metrics (marked {SHIFT_SIGN} in the "
                "HTML report's main table), largest difference first:")
    return f"No system's place differs by {d.min_shift} or more between the metrics."


def disagreement_markdown(comp: Comparison) -> list[str]:
    """The section as Markdown lines (none with a single metric)."""
    d = comp.disagreement
    if d is None:
        return []
    corr = pipe_table(["metrics", "Kendall tau", "Spearman rho"],
                      [[f"{md_text(metric_label(d.metrics[a]))} vs {md_text(metric_label(d.metrics[b]))}",
                        _corr(d.kendall[a, b]), _corr(d.spearman[a, b])] for a, b in d.pairs()])
    lines = [f"Where the metrics disagree: rank correlation between the metrics over the {len(comp.names)} "
             "systems (Kendall's tau-b, Spearman's rho; 1 = the same ranking).", "", corr, "", _summary(comp, d)]
    if d.flagged:
        header, rows = _rows(comp, d)
        lines += ["", pipe_table([md_text(h) for h in header], [[md_text(r[0]), *r[1:]] for r in rows])]
    return lines + [""]


def disagreement_html(comp: Comparison) -> list[str]:
    """The section as HTML (nothing with a single metric)."""
    d = comp.disagreement
    if d is None:
        return []
    corr = "".join(f"<tr><td>{escape(metric_label(d.metrics[a]))} vs {escape(metric_label(d.metrics[b]))}</td>"
                   f"<td class='num'>{_corr(d.kendall[a, b])}</td><td class='num'>{_corr(d.spearman[a, b])}</td></tr>"
                   for a, b in d.pairs())
    out = ["<h2>Where the metrics disagree</h2>",
           f"<p class='muted'>Rank correlation between the metrics over the {len(comp.names)} systems (Kendall's "
           "tau-b, Spearman's rho over average ranks; 1 = the same ranking). A place is a system's position by "
           "score under one metric (ties share the best place); the cluster is its rank cluster.</p>",
           "<table id='metric-correlations'><thead><tr><th>metrics</th><th>Kendall tau</th><th>Spearman rho</th>"
           f"</tr></thead><tbody>{corr}</tbody></table>", f"<p>{escape(_summary(comp, d))}</p>"]
    if d.flagged:
        header, rows = _rows(comp, d)
        out.append("<table id='rank-shifts'><thead><tr>" + "".join(f"<th>{escape(h)}</th>" for h in header)
                   + "</tr></thead><tbody>"
                   + "".join("<tr><td>" + escape(r[0]) + "</td>" + "".join(f"<td class='num'>{escape(c)}</td>"
                                                                           for c in r[1:]) + "</tr>" for r in rows)
                   + "</tbody></table>")
    return out
