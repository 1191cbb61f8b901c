"""Finished run directories built from texts in memory (no model), for gate, compare and leaderboard tests."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from mteval.metrics.base import Metric
from mteval.results.io import write_run
from mteval.types import Corpus, MetricResult, RunResult, Segment
from mteval.pipeline import score


def text_run(path: str | Path, hyps: Sequence[str], refs: Sequence[str], *, metrics: Sequence[Metric],
             srcs: Sequence[str] | None = None, dataset: str = "toy", system: str | None = None,
             src_lang: str = "en", tgt_lang: str = "zh") -> Path:
    """Score ``hyps`` against ``refs`` with real metrics and write the run directory ``path``.

    Args:
        srcs: the sources (default ``source 1``, ``source 2``...). system: the system name
            (default: the directory name).
    """

    path = Path(path)
    srcs = list(srcs) if srcs is not None else [f"source {i + 1}" for i in range(len(hyps))]
    corpus = Corpus(name=dataset, src_lang=src_lang, tgt_lang=tgt_lang, segments=[
        Segment(id=str(i + 1), src=s, refs=[r]) for i, (s, r) in enumerate(zip(srcs, refs, strict=True))])
    results: dict[str, MetricResult] = {}
    for metric in metrics:
        result = score(metric, corpus, list(hyps))
        if result is not None:
            results[metric.name] = result
    write_run(path, RunResult(dataset=dataset, system=system or path.name, corpus=corpus, hypotheses=list(hyps),
                              metrics=results))
    return path
