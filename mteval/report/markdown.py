"""The comparison as Markdown: the table printed in the terminal and saved as report.md."""
from __future__ import annotations

from collections.abc import Callable

from mteval.compare.comparison import Comparison
from mteval.compare.table import system_order
from mteval.report import spans
from mteval.report.disagree import disagreement_markdown
from mteval.report.human import agreement_markdown
from mteval.report.pairs import cluster_rule, pairs_markdown
from mteval.report.partitions import markdown_lines as partition_lines
from mteval.report.labels import CHECK_HEADERS, digits, fmt_p, fmt_score, metric_label, pipe_table
from mteval.text.checks import CHECKS, DESCRIPTIONS
from mteval.text.escape import md_code, md_text


def table_cells(comp: Comparison) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the comparison table as display strings, best system first."""
    header = ["system"]
    for m in comp.metrics:
        label = metric_label(m.name) + ("" if m.higher_is_better else " (lower better)")
        header += [label, "95% CI", "p bs", "p ar", "rank"]
    header += [CHECK_HEADERS[c] for c in CHECKS]
    counts = comp.check_counts()
    rows = []
    for i in system_order(comp):
        name = comp.names[i] + (" (baseline)" if i == comp.baseline else "")
        row = [name]
        for m in comp.metrics:
            iv, d = m.intervals[i], digits(m)
            row += [fmt_score(m.scores[i], d), f"{fmt_score(iv.lower, d)}-{fmt_score(iv.upper, d)}",
                    fmt_p(m.p_bs[i], comp.alpha), fmt_p(m.p_ar[i], comp.alpha) if comp.n_ar else "n/a",
                    str(m.ranks[i])]
        row += [str(counts[i][c]) for c in CHECKS]
        rows.append(row)
    return header, rows


def settings_line(comp: Comparison, *, quote: Callable[[str], str] = str) -> str:
    """What the statistics used; ``quote`` formats the baseline's name for the target format."""
    seed = "unseeded" if comp.seed is None else f"seed {comp.seed}"
    ar = f"{comp.n_ar} approximate-randomisation trials" if comp.n_ar else "no approximate randomisation"
    return (f"{comp.n_bootstrap} bootstrap resamples, {ar}, {seed}; * = p < {comp.alpha} against "
            f"{quote(comp.names[comp.baseline])}; {cluster_rule(comp)}")


def markdown_report(comp: Comparison, *, html_path: str | None = None, pairs: bool = True) -> str:
    """The table, what the columns mean, the check counts explained, where the metrics disagree,
    every pair's matrices (with ``pairs``), and every metric signature.

    Names that come from users (dataset, systems, metrics, paths) are escaped, so a ``|``, ``*``
    or ``<`` in a system name cannot break the table or inject markup."""
    rs = comp.runset
    header, rows = table_cells(comp)
    header = [md_text(h) for h in header]
    rows = [[md_text(r[0]), *r[1:]] for r in rows]
    lines = [f"## {md_text(rs.dataset)} ({md_text(rs.direction)}, {rs.n_segments} segments, {len(rs.runs)} systems)",
             "", pipe_table(header, rows), "", settings_line(comp, quote=md_text) + ".",
             "Checks (segments per system): " + "; ".join(f"{CHECK_HEADERS[c]} = {DESCRIPTIONS[c]}"
                                                          for c in CHECKS) + ".", ""]
    partial = [m for m in comp.metrics if m.n_scored < rs.n_segments]
    for m in partial:
        lines.append(f"{md_text(metric_label(m.name))}: {m.n_scored} of {rs.n_segments} segments scored (the rest have "
                     "no reference); its resamples use those.")
    span_metric = spans.spans_metric(comp)
    if span_metric is not None:
        lines += [f"Error spans that {md_text(metric_label(span_metric))} marks, by severity:", "",
                  pipe_table(["system", *spans.COUNT_HEADERS],
                             [[md_text(name), *cells] for name, cells in spans.counts(comp, span_metric)]), ""]
    if comp.agreement is not None:
        lines += [agreement_markdown(comp.agreement), ""]
    lines += disagreement_markdown(comp) + (pairs_markdown(comp) if pairs else [])  # issue 22 items 3 and 1
    lines += partition_lines(comp)
    lines.append("Signatures:")
    lines += [f"- {md_text(metric_label(m.name))}: {md_code(m.signature)}" for m in comp.metrics]
    if html_path:
        lines += ["", f"HTML report: {md_text(html_path)}"]
    return "\n".join(lines) + "\n"
