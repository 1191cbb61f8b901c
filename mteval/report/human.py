"""The agreement-with-humans section: one row per metric, in Markdown, HTML and as a table for agreement.csv."""
from __future__ import annotations

from html import escape

import pandas as pd

from mteval.compare.meta import STAT_LABELS, Agreement, Estimate
from mteval.text.escape import md_text
from mteval.report.labels import metric_label, pipe_table

# String metrics (chrF, sentence BLEU) reach a segment-level Kendall tau of 0.1 or more against WMT22
# MQM (the WMT22 metrics task findings, Freitag et al., 2022); below this the segment pairing is suspect.
CHANCE_TAU = 0.05


def _estimate(e) -> str:
    return "n/a" if e.value != e.value else f"{e.value:.3f} ({e.lower:.3f} to {e.upper:.3f})"


def agreement_cells(ag: Agreement) -> tuple[list[str], list[list[str]]]:
    """Header and rows: metric, systems, then each statistic with its 95% interval."""
    keys = [k for k in STAT_LABELS if any(k in m.stats for m in ag.metrics)]
    header = ["metric", "systems", *(f"{STAT_LABELS[k]} (95% CI)" for k in keys)]
    rows = []
    for m in ag.metrics:
        label = metric_label(m.name) + ("" if m.higher_is_better else " (lower better)")
        rows.append([label, str(len(ag.human.runs)), *(_estimate(m.stats[k]) for k in keys)])
    return header, rows


def agreement_frame(ag: Agreement) -> pd.DataFrame:
    """agreement.csv: one row per metric with every statistic and its interval as numbers."""
    rows = []
    for m in ag.metrics:
        row = {"metric": m.name, "higher_is_better": m.higher_is_better, "systems": len(ag.human.runs),
               "segment_cells": m.n_cells}
        for key, e in m.stats.items():
            row.update({key: e.value, f"{key}_lo": e.lower, f"{key}_hi": e.upper})
        rows.append(row)
    return pd.DataFrame(rows)


def matching_lines(ag: Agreement) -> list[str]:
    """What was matched and what was not: systems on one side only, unmapped segment scores, notes."""
    h = ag.human
    lines = [f"Human scores: {', '.join(h.files)}; {len(h.runs)} systems matched by name."]
    if h.runs_only:
        lines.append(f"Runs without a human score (left out of the agreement): {', '.join(h.runs_only)}.")
    if h.human_only:
        refs = [s for s in h.human_only if s.upper().startswith("HUMAN")]
        lines.append(f"Human scores without a run (not compared): {', '.join(h.human_only)}."
                     + (f" {', '.join(refs)}: a human reference judged as a system; a run with that system name "
                        "would include it." if refs else ""))
    if h.segment_key:
        how = "segment ids as in segments.jsonl" if h.segment_key == "id" else "1-based line numbers of the test set"
        lines.append(f"Segment scores matched as {how}" + (f"; {h.unmapped} name no segment of the runs and are "
                                                          "left out" if h.unmapped else "") + ".")
    lines += [f"{n}." for n in h.notes]
    chance = [metric_label(m.name) for m in ag.metrics if abs(m.stats.get("segment_kendall", Estimate(1, 1, 1)).value)
              < CHANCE_TAU]
    if chance:  # what a segment mapping that does not line up looks like (WMT22 zh-en SIDs read as lines)
        lines.append(f"Segment tau of {', '.join(chance)} is below {CHANCE_TAU}, about chance: check that the human "
                     "segment ids name the same segments as the runs (--human-segments).")
    seg = (" Segment tau: Kendall tau-b over every (system, segment) both score." if h.segment_key else
           " No segment scores: the intervals resample the metric only.")
    lines.append("Metric scores of lower-is-better metrics are negated first, so +1 is full agreement. Pairwise acc: "
                 "share of system pairs ordered as the humans order them." + seg + " Intervals: 95% percentile "
                 f"bootstrap over segments ({ag.n_bootstrap} resamples, the comparison's draws).")
    return lines


def agreement_markdown(ag: Agreement) -> str:
    header, rows = agreement_cells(ag)
    table = pipe_table([md_text(c) for c in header], [[md_text(r[0]), *r[1:]] for r in rows], right_from=1)
    return "\n".join(["### Agreement with human scores", "", table, "", *(md_text(x) for x in matching_lines(ag))])


def agreement_html(ag: Agreement) -> str:
    header, rows = agreement_cells(ag)
    out = ["<table id='agreement'><thead><tr>", *(f"<th>{escape(h)}</th>" for h in header), "</tr></thead><tbody>"]
    for r in rows:
        out.append("<tr><td>" + escape(r[0]) + "</td>" + "".join(f"<td class='num'>{escape(c)}</td>" for c in r[1:])
                   + "</tr>")
    out.append("</tbody></table>")
    out += [f"<p class='muted'>{escape(x)}</p>" for x in matching_lines(ag)]
    return "".join(out)
