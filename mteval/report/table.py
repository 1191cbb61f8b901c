"""The results table printed at the end of a run."""
from __future__ import annotations

from mteval.types import RunResult


def scores_table(result: RunResult) -> str:
    """A plain-text table: one row per metric with score, direction, segments scored, signature."""
    import pandas as pd

    rows = [
        {"metric": name, "score": round(m.score, 4), "better": "higher" if m.higher_is_better else "lower",
         "scored": f"{m.n_scored}/{len(result.corpus)}", "signature": m.signature}
        for name, m in result.metrics.items()
    ]
    head = f"{result.dataset} | {result.system} | {result.corpus.direction} | {len(result.corpus)} segments"
    skipped = result.provenance.get("skipped_metrics") or []
    tail = f"\nskipped (no references): {', '.join(skipped)}" if skipped else ""
    for name, info in (result.provenance.get("unscored_metrics") or {}).items():
        tail += f"\n{name}: no segment could be scored" + _judge_line(info.get("judge"))
    for name, m in result.metrics.items():
        if m.extra.get("judge"):
            tail += f"\n{name}: {m.n_scored}/{len(result.corpus)} scored" + _judge_line(m.extra["judge"])
    originals = result.corpus.summary.get("arxiv_originals") or {}
    if originals.get("confirmed"):  # what the references are (the abstracts' Google Chinese, issue 15)
        tail += f"\n{originals['line']}\n{result.corpus.summary['note']}"
    for name, m in result.metrics.items():  # never silent about inputs longer than a model reads
        info = m.extra.get("long_inputs") or {}
        if info.get("over_limit"):
            tail += (f"\n{name}: {info['over_limit']} segment(s) longer than the {info['limit']} tokens its model "
                     f"reads: {info['by_sentences']} scored by sentence pairs, {info['truncated']} cut (unscored rest)")
    if not rows:
        return head + "\n(no metric produced a score)" + tail
    with pd.option_context("display.max_colwidth", 120, "display.width", 200):
        return head + "\n" + pd.DataFrame(rows).to_string(index=False) + tail


def _judge_line(judge: dict | None) -> str:
    """An LLM judge's accounting: answers that did not parse (by kind), and whether it judged its own model."""
    if not judge:
        return ""
    kinds = ", ".join(f"{k} {n}" for k, n in judge["failures"].items())
    line = (f"; {judge['unparsable']} of {judge['answers']} answers unparsable after one retry"
            + (f" ({kinds})" if kinds else "") + f", {judge['parsed_on_retry']} parsed on the retry")
    if judge.get("self_judge"):
        line += "; the judge is the judged system's own model (allow_self_judge=true)"
    return line