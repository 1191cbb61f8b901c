"""Domains and documents in the report: scores with intervals and paired tests per domain, documents by spread."""
from __future__ import annotations

from html import escape

from mteval.compare.comparison import Comparison, MetricComparison
from mteval.compare.partitions import MIN_TEST_SEGMENTS, Part, Partition
from mteval.compare.table import system_order
from mteval.report.labels import digits, fmt_score, metric_label, pipe_table
from mteval.text.escape import md_text

#: Documents shown in full (scores, intervals, p-values) per metric, of those long enough for the tests; every
#: document folds into one table below them.
TOP_DOCUMENTS = 15
#: Documents the Markdown report lists per metric.
MD_DOCUMENTS = 5

_CSS = ("<style>td.up{background:#eef8ea}td.up.strong{background:#bfe5b0}td.down{background:#fbeeee}"
        "td.down.strong{background:#f3b9b9}td.part small{display:block;color:#666;font-size:11px}</style>")


def significant(part: Part, i: int, alpha: float) -> bool:
    """Both paired tests (where run) put system ``i`` apart from the baseline on the part."""
    p_bs, p_ar = part.p_bs[i], part.p_ar[i]
    return p_bs is not None and p_bs < alpha and (p_ar is None or p_ar < alpha)


def tested(parts: list[Part]) -> list[Part]:
    """The parts long enough for the paired tests: a short document's spread is mostly chance."""
    return [p for p in parts if p.n >= MIN_TEST_SEGMENTS]


def _better(m: MetricComparison, part: Part, i: int, base: int) -> float:
    """The difference to the baseline, signed so that > 0 is better (TER: lower)."""
    d = float(part.scores[i] - part.scores[base])
    return d if m.higher_is_better else -d


def _cls(m: MetricComparison, part: Part, i: int, base: int, alpha: float) -> str:
    if i == base:
        return "num part"
    d = _better(m, part, i, base)
    if d == 0:
        return "num part"
    return "num part " + ("up" if d > 0 else "down") + (" strong" if significant(part, i, alpha) else "")


def _p(p: float | None) -> str:
    return "-" if p is None else f"{p:.4f}"


def _detail(m: MetricComparison, part: Part, i: int, base: int) -> list[str]:
    """The interval, and for another system its difference and both p-values, as plain text."""
    d, iv = digits(m), part.intervals[i]
    lines = [f"[{fmt_score(iv.lower, d)}, {fmt_score(iv.upper, d)}]"]
    if i != base:
        lines.append(f"{part.scores[i] - part.scores[base]:+.{d}f} p {_p(part.p_bs[i])}/{_p(part.p_ar[i])}")
    return lines


def _cell(m: MetricComparison, part: Part, i: int, comp: Comparison, *, full: bool = True) -> str:
    score = fmt_score(part.scores[i], digits(m))
    # The interval and the test on lines of their own: the domain table then fits 1000 px.
    detail = f"<small>{'<br>'.join(escape(t) for t in _detail(m, part, i, comp.baseline))}</small>" if full else ""
    return f"<td class='{_cls(m, part, i, comp.baseline, comp.alpha)}' data-v='{part.scores[i]:.6g}'>{score}{detail}</td>"


def _sortable(heads: list[str], rows: list[str], cls: str) -> str:
    """A table the page's script sorts by any header (one tbody per row, as the main table)."""
    th = "".join(f"<th scope='col' aria-sort='none'><button type='button'>{h}</button></th>" for h in heads)
    body = "".join(f"<tbody data-order='{k}'><tr{r}</tr></tbody>" for k, r in enumerate(rows))
    return f"<div class='scroll'><table class='{cls} sortable'><thead><tr>{th}</tr></thead>{body}</table></div>"


def _settings(part: Partition, alpha: float) -> str:
    ar = f"{part.n_ar} randomisation trials" if part.n_ar else "no randomisation test"
    return (f"each {part.kind} resampled on its own segments ({part.n_bootstrap} bootstrap resamples, {ar}, "
            f"the comparison's seed); p = paired bootstrap / approximate randomisation against the baseline, "
            f"not corrected for multiple comparisons; none under {MIN_TEST_SEGMENTS} segments; "
            f"dark green/red: better/worse with both p &lt; {alpha}")


def domain_table(comp: Comparison, m: MetricComparison, part: Partition) -> str:
    """Systems (table order) by domains: score, 95% interval, difference and p-values, coloured."""
    heads = ["system", *(f"{escape(p.label)}<span class='who'>n = {p.n}</span>" for p in part.parts)]
    rows = []
    for i in system_order(comp):
        cls = " class='baseline'" if i == comp.baseline else ""
        cells = "".join(_cell(m, p, i, comp) for p in part.parts)
        rows.append(f"{cls}><td data-v='{escape(comp.names[i])}'>{escape(comp.names[i])}</td>{cells}")
    return f"<h3>{escape(metric_label(m.name))} by domain</h3>" + _sortable(heads, rows, "domains")


def document_table(comp: Comparison, m: MetricComparison, parts: list[Part], *, full: bool) -> str:
    """Documents (given order) by systems: n, spread, std, each system's score (``full``: with intervals and tests)."""
    order = system_order(comp)
    d = digits(m)
    heads = ["document", "n", "spread", "std", *(escape(comp.names[i]) for i in order)]
    rows = []
    for p in parts:
        cells = "".join(_cell(m, p, i, comp, full=full) for i in order)
        rows.append(f"><td data-v='{escape(p.label)}'>{escape(p.label)}</td><td class='num' data-v='{p.n}'>{p.n}</td>"
                    f"<td class='num' data-v='{p.spread:.6g}'>{fmt_score(p.spread, d)}</td>"
                    f"<td class='num' data-v='{p.std:.6g}'>{fmt_score(p.std, d)}</td>{cells}")
    return _sortable(heads, rows, "documents")


def html_sections(comp: Comparison) -> list[str]:
    """The domain tables and the document view; [] when the runs have neither."""
    domains = [(m, m.partitions["domain"]) for m in comp.metrics if "domain" in m.partitions]
    documents = [(m, m.partitions["document"]) for m in comp.metrics if "document" in m.partitions]
    out = [_CSS] if domains or documents else []
    base = escape(comp.names[comp.baseline])
    if domains:
        out += [f"<h2>Scores by domain, against {base}</h2>",
                f"<p class='muted'>Cell: score, its 95% interval, the difference to {base} and p bs/p ar; "
                f"{_settings(domains[0][1], comp.alpha)}.</p>",
                *(domain_table(comp, m, part) for m, part in domains)]
    if documents:
        n_docs = len(documents[0][1].parts)
        out += [f"<h2>Documents where the systems differ most ({n_docs} documents)</h2>",
                f"<p class='muted'>Spread: best minus worst system on the document; std: standard deviation of "
                f"the systems' scores; {_settings(documents[0][1], comp.alpha)}.</p>"]
        for m, part in documents:
            ranked = part.by_spread()
            top = tested(ranked)[:TOP_DOCUMENTS]
            out += [f"<h3>{escape(metric_label(m.name))}: the {len(top)} documents of at least {MIN_TEST_SEGMENTS} "
                    "segments where the systems differ most</h3>", document_table(comp, m, top, full=True),
                    f"<details class='documents'><summary>all {len(ranked)} documents by spread (scores only)</summary>"
                    f"{document_table(comp, m, ranked, full=False)}</details>"]
    return out


def _md_cell(m: MetricComparison, part: Part, i: int, comp: Comparison) -> str:
    d = digits(m)
    iv = part.intervals[i]
    text = f"{fmt_score(part.scores[i], d)} [{fmt_score(iv.lower, d)}-{fmt_score(iv.upper, d)}]"
    if i != comp.baseline:
        text += f" {part.scores[i] - part.scores[comp.baseline]:+.{d}f}" + ("*" if significant(part, i, comp.alpha)
                                                                          else "")
    return text


def markdown_lines(comp: Comparison) -> list[str]:
    """Per metric the domain table and the documents where the systems differ most; [] without either."""
    lines: list[str] = []
    order = system_order(comp)
    for m in comp.metrics:
        label = md_text(metric_label(m.name))
        part = m.partitions.get("domain")
        if part is not None:
            header = ["system", *(f"{md_text(p.label)} (n={p.n})" for p in part.parts)]
            rows = [[md_text(comp.names[i]), *(_md_cell(m, p, i, comp) for p in part.parts)] for i in order]
            lines += [f"{label} by domain (score [95% CI] difference to the baseline; * = p bs and p ar < "
                      f"{comp.alpha}):", "", pipe_table(header, rows), ""]
        docs = m.partitions.get("document")
        if docs is not None:
            d = digits(m)
            rows = []
            for p in tested(docs.by_spread())[:MD_DOCUMENTS]:
                hi, lo = int(p.scores.argmax()), int(p.scores.argmin())
                rows.append([md_text(p.label), str(p.n), fmt_score(p.spread, d),
                             f"{md_text(comp.names[hi])} {fmt_score(p.scores[hi], d)}",
                             f"{md_text(comp.names[lo])} {fmt_score(p.scores[lo], d)}"])
            lines += [f"{label}: the {len(rows)} of {len(docs.parts)} documents (of at least {MIN_TEST_SEGMENTS} "
                      "segments) where the systems differ most:", "",
                      pipe_table(["document", "n", "spread", "highest", "lowest"], rows), ""]
    return lines
