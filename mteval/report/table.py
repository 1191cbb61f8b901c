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
