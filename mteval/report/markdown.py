"""The comparison as Markdown: the table printed in the terminal and saved as report.md."""
from __future__ import annotations

from collections.abc import Callable

from mteval.compare.comparison import Comparison, MetricComparison
from mteval.compare.table import system_order
from mteval.text.escape import md_code, md_text
from mteval.text.checks import CHECKS, DESCRIPTIONS

CHECK_HEADERS = {"empty": "empty", "copy": "copy", "off_target": "off-tgt", "traditional": "trad",
                 "punct_width": "punct", "length": "len"}
METRIC_LABELS = {"bleu": "BLEU", "chrf": "chrF", "chrf++": "chrF++", "ter": "TER", "comet": "COMET",
                 "cometkiwi": "CometKiwi", "xcomet": "XCOMET", "xcomet_qe": "XCOMET-QE", "llm_judge": "LLM judge"}


def metric_label(name: str) -> str:
    return METRIC_LABELS.get(name, name)


def digits(m: MetricComparison) -> int:
    """Decimals to show: 2 for 0-100 metrics (BLEU, chrF, TER), 4 for COMET-like 0-1 scores."""
    return 4 if float(abs(m.scores).max()) <= 1.5 else 2


def fmt_score(x: float, n_digits: int = 2) -> str:
    return f"{x:.{n_digits}f}"


def fmt_p(p: float | None, alpha: float) -> str:
    """A p-value with 4 decimals (as sacrebleu prints it), starred when significant."""
    if p is None:
        return "-"
    return f"{p:.4f}" + ("*" if p < alpha else "")


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


def pipe_table(header: list[str], rows: list[list[str]], *, right_from: int = 1) -> str:
    """A GitHub-flavoured Markdown table with aligned columns (numbers right-aligned)."""
    widths = [max(len(h), *(len(r[c]) for r in rows)) for c, h in enumerate(header)]

    def line(cells: list[str]) -> str:
        padded = [c.ljust(w) if k < right_from else c.rjust(w) for k, (c, w) in enumerate(zip(cells, widths,
                                                                                                strict=True))]
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join(("-" * (w + 1) + ":" if k >= right_from else "-" * (w + 2))
                          for k, w in enumerate(widths)) + "|"
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def settings_line(comp: Comparison, *, quote: Callable[[str], str] = str) -> str:
    """What the statistics used; ``quote`` formats the baseline's name for the target format."""
    seed = "unseeded" if comp.seed is None else f"seed {comp.seed}"
    ar = f"{comp.n_ar} approximate-randomisation trials" if comp.n_ar else "no approximate randomisation"
    return (f"{comp.n_bootstrap} bootstrap resamples, {ar}, {seed}; * = p < {comp.alpha} against "
            f"{quote(comp.names[comp.baseline])}; rank = cluster of systems not significantly different from its best")


def markdown_report(comp: Comparison, *, html_path: str | None = None) -> str:
    """The table, what the columns mean, the check counts explained, and every metric signature.

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
    from mteval.report import spans  # spans builds on this module's labels: imported here, not at the top

    span_metric = spans.spans_metric(comp)
    if span_metric is not None:
        lines += [f"Error spans that {md_text(metric_label(span_metric))} marks, by severity:", "",
                  pipe_table(["system", *spans.COUNT_HEADERS],
                             [[md_text(name), *cells] for name, cells in spans.counts(comp, span_metric)]), ""]
    if comp.agreement is not None:
        from mteval.report.human import agreement_markdown

        lines += [agreement_markdown(comp.agreement), ""]
    lines.append("Signatures:")
    lines += [f"- {md_text(metric_label(m.name))}: {md_code(m.signature)}" for m in comp.metrics]
    if html_path:
        lines += ["", f"HTML report: {md_text(html_path)}"]
    return "\n".join(lines) + "\n"
