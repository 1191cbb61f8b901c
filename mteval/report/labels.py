"""Labels and number formats shared by the Markdown, HTML and plot reports, and the Markdown table itself."""
from __future__ import annotations

from mteval.compare.comparison import MetricComparison

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
