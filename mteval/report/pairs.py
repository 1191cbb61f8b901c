"""Every pair of systems per metric: differences, p-values and segment wins, in Markdown and as HTML heatmaps."""
from __future__ import annotations

from html import escape

import numpy as np

from mteval.compare.comparison import Comparison, MetricComparison
from mteval.compare.table import system_order
from mteval.report.labels import digits, fmt_score, metric_label, pipe_table
from mteval.stats.holm import smallest_adjusted
from mteval.stats.pairs import PairTable
from mteval.text.escape import md_text

_TEST_NAMES = {"ar": "approximate randomisation", "bs": "paired bootstrap"}
# Heatmap fills: (significant after Holm, not significant) for a row better / worse than its column.
_FILL = {True: ("#7cc47a", "#e3f4dc"), False: ("#e07b6f", "#fbe4e1")}


def _tested(comp: Comparison) -> list[MetricComparison]:
    return [m for m in comp.metrics if m.pairs is not None]


def cluster_rule(comp: Comparison) -> str:
    """How the rank clusters are drawn, for the legend under the main table."""
    tested = _tested(comp)
    if not tested:
        return "rank = cluster of systems not significantly different from its best"
    test = tested[0].pairs.cluster_test
    return (f"rank = cluster of systems not significantly different from its best (p {test}, Holm-adjusted over "
            f"each metric's {tested[0].pairs.family} pairs)")


def family_lines(comp: Comparison, pairs: PairTable) -> list[str]:
    """The correction stated: the family, the test behind the clusters, and a warning when too few
    resamples leave Holm no room."""
    k = len(comp.names)
    lines = [f"Holm-Bonferroni correction over the {pairs.family} pairs of the {k} systems on this metric, each test "
             f"its own family; * = Holm-adjusted p < {comp.alpha}. The rank clusters use the adjusted "
             f"{_TEST_NAMES[pairs.cluster_test]} p-values. Uncorrected p-values are sacrebleu's, as "
             "sacrebleu --paired-bs / --paired-ar print them with the row as the baseline."]
    for test, n in (("ar", pairs.n_ar), ("bs", pairs.n_bootstrap)):
        if (test == "bs" or pairs.p_ar is not None) and smallest_adjusted(n, pairs.family) >= comp.alpha:
            what = "every system shares one cluster" if test == pairs.cluster_test else f"no p {test} is starred"
            flag = "--n-ar" if test == "ar" else "--n-bootstrap"
            lines.append(f"With {n} {_TEST_NAMES[test]} resamples no p-value falls below 1/{n + 1}, so none can pass "
                         f"Holm over {pairs.family} pairs (smallest adjusted p "
                         f"{smallest_adjusted(n, pairs.family):.3f}): {what}; {flag} "
                         f"{int(np.ceil(pairs.family / comp.alpha))} or more lets it.")
    return lines


def _p(p: float, adjusted: float, alpha: float) -> str:
    return f"{p:.4f}" + ("*" if adjusted < alpha else "")


def _matrix_md(comp: Comparison, order: list[int], cell) -> str:
    header = ["", "system", *(str(n) for n in range(1, len(order) + 1))]
    rows = [[str(r), md_text(comp.names[i]), *("-" if i == j else cell(i, j) for j in order)]
            for r, i in enumerate(order, start=1)]
    return pipe_table(header, rows, right_from=2)


def pairs_markdown(comp: Comparison) -> list[str]:
    """Per metric: difference and p of the clusters' test, the other test's p, segment wins/ties/losses."""
    order = system_order(comp)
    lines: list[str] = []
    for m in _tested(comp):
        t, d, a = m.pairs, digits(m), comp.alpha
        main, main_adj = (t.p_ar, t.p_ar_holm) if t.cluster_test == "ar" else (t.p_bs, t.p_bs_holm)
        label = md_text(metric_label(m.name)) + ("" if m.higher_is_better else " (lower better)")
        lines += [f"### {label}: every pair (row minus column)", "", *family_lines(comp, t), "",
                  f"Difference and p {t.cluster_test}:", "",
                  _matrix_md(comp, order, lambda i, j: f"{t.diff[i, j]:+.{d}f} {_p(main[i, j], main_adj[i, j], a)}"),
                  ""]
        if t.p_ar is not None:
            other, other_adj, name = (t.p_bs, t.p_bs_holm, "bs") if t.cluster_test == "ar" else (t.p_ar, t.p_ar_holm,
                                                                                                 "ar")
            lines += [f"p {name}:", "", _matrix_md(comp, order, lambda i, j: _p(other[i, j], other_adj[i, j], a)), ""]
        lines += ["Segments won/tied/lost by the row:", "",
                  _matrix_md(comp, order, lambda i, j: f"{t.wins[i, j]}/{t.ties[i, j]}/{t.losses[i, j]}"), ""]
    return lines


def _cell(comp: Comparison, m: MetricComparison, i: int, j: int) -> str:
    t = m.pairs
    if i == j:
        return "<td class='pair-self'></td>"
    adj = t.cluster_p[i, j]
    p = (t.p_ar if t.cluster_test == "ar" else t.p_bs)[i, j]
    better = (t.diff[i, j] > 0) == m.higher_is_better
    fill = "#f4f4f4" if t.diff[i, j] == 0 else _FILL[better][0 if adj < comp.alpha else 1]
    d = digits(m)
    ps = f"p bs {t.p_bs[i, j]:.4f} (Holm {t.p_bs_holm[i, j]:.4f})"
    if t.p_ar is not None:
        ps += f", p ar {t.p_ar[i, j]:.4f} (Holm {t.p_ar_holm[i, j]:.4f})"
    title = (f"{comp.names[i]} minus {comp.names[j]}: {fmt_score(t.diff[i, j], d)} {metric_label(m.name)}; {ps}; "
             f"segments won {t.wins[i, j]}, tied {t.ties[i, j]}, lost {t.losses[i, j]}")
    sig = "*" if adj < comp.alpha else ""
    return (f"<td class='num' style='background:{fill}' title='{escape(title)}'>{t.diff[i, j]:+.{d}f}{sig}"
            f"<span class='pair-p'>p {p:.4f}</span>"
            f"<span class='pair-wtl'>{t.wins[i, j]}/{t.ties[i, j]}/{t.losses[i, j]}</span></td>")


def _heatmap(comp: Comparison, m: MetricComparison, order: list[int]) -> str:
    head = "".join(f"<th title='{escape(comp.names[j])}'>{n}</th>" for n, j in enumerate(order, start=1))
    body = "".join(f"<tr><th class='pair-row'>{n} {escape(comp.names[i])}</th>"
                   + "".join(_cell(comp, m, i, j) for j in order) + "</tr>"
                   for n, i in enumerate(order, start=1))
    return (f"<div class='pairs-wrap' style='overflow-x:auto'><table class='pairs' data-metric='{escape(m.name)}'>"
            f"<thead><tr><th>row minus column</th>{head}</tr></thead><tbody>{body}</tbody></table></div>")


# Small type and padding so that 13 systems fit 1000 px; wider matrices scroll in their own box.
_STYLE = ("<style>table.pairs{font-size:11px}table.pairs td,table.pairs th{padding:2px 3px}"
          "table.pairs .pair-p,table.pairs .pair-wtl{display:block;font-size:9px;color:#333}"
          "table.pairs th.pair-row{text-align:left;white-space:nowrap}table.pairs td.pair-self{background:#ddd}"
          "</style>")


def pairs_html(comp: Comparison) -> list[str]:
    """The HTML section: one heatmap per metric, coloured by which side is better and whether the
    difference survives Holm's correction, with the legend stating the family."""
    tested = _tested(comp)
    if not tested:
        return []
    order = system_order(comp)
    out = ["<h2>Every pair of systems</h2>", _STYLE,
           "<p class='muted'>Each cell: the row's score minus the column's, the uncorrected p-value of the test "
           "behind the rank clusters, and the segments the row wins/ties/loses against the column (segment "
           "scores of the metric). Green: the row is better; red: worse; strong colour and * = significant "
           "after Holm's correction. Hover a cell for both tests, corrected and not.</p>"]
    for m in tested:
        label = metric_label(m.name) + ("" if m.higher_is_better else " (lower better)")
        out += [f"<h3>{escape(label)}</h3>",
                "<p class='muted'>" + " ".join(escape(x) for x in family_lines(comp, m.pairs))
                + "</p>", _heatmap(comp, m, order)]
    return out
