"""Baselines: a committed snapshot of a run with what a paired test needs, and the same view of a run dir.

A baseline file is JSON (``"format": "mteval-baseline/1"``) with the run's identity (dataset,
system, direction), its ``scores.json`` metric entries (score, signature, direction, settings)
and one line per segment: the id, 16-hex sha256 prefixes of the source and of the reference list
(enough to prove both runs saw the same data without storing it), the hypothesis (for the
summary's worst-segment examples), every segment score, and, for sacrebleu metrics, the
per-segment sufficient statistics the paired bootstrap resamples. One segment per line keeps the
file small (~0.6 MB for WMT22 en-zh with BLEU and chrF) and its git diffs readable.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mteval.data.userfile import read_text
from mteval.errors import InputError
from mteval.files import digest, write_atomic
from mteval.results.io import load_run
from mteval.results.rebuild import rebuild_metric, sacre_stats
from mteval.results.schema import check_baseline
from mteval.types import Direction

FORMAT = "mteval-baseline/1"


@dataclass
class RunView:
    """What the gate compares, read from a baseline file or a run directory.

    Attributes:
        label: where it came from (a path), for messages.
        metrics: the ``scores.json`` entry of each metric.
        segment_scores: per metric, one score (or None) per segment.
        stats: per sacrebleu metric, one list of sufficient statistics (or None) per segment.
    """

    label: str
    dataset: str
    system: str
    direction: str
    ids: list[str]
    src_sha: list[str]
    refs_sha: list[str]
    hyps: list[str]
    metrics: dict[str, dict[str, Any]]
    segment_scores: dict[str, list[float | None]]
    stats: dict[str, list[list[float] | None]] = field(default_factory=dict)
    #: the references of a run directory, kept so statistics are computed only when needed.
    refs: list[list[str]] | None = None

    @property
    def tgt_lang(self) -> str:
        return Direction.parse(self.direction).tgt

    def stats_for(self, name: str) -> list[list[float] | None] | None:
        """Sufficient statistics of a sacrebleu metric (computed once for a run dir); None for others."""
        if name not in self.stats and self.refs is not None:
            stats = sacre_stats_of(name, self.metrics[name], self.hyps, self.refs, self.tgt_lang, self.label)
            if stats is not None:
                self.stats[name] = stats
        return self.stats.get(name)


def sacre_stats_of(name: str, entry: dict[str, Any], hyps: list[str], refs: list[list[str]], tgt_lang: str,
                   where: str) -> list[list[float] | None] | None:
    """Per-segment sacrebleu sufficient statistics for a BLEU/chrF/TER entry; None for other metrics.

    Segments without a reference get None (the metric did not score them). The statistics are
    checked against the run's own corpus score, so a baseline can never be built or compared with
    settings that do not reproduce the number in ``scores.json``.
    """
    metric = rebuild_metric(name, entry, where)
    if metric is None:
        return None
    keep = [i for i, r in enumerate(refs) if r]
    out: list[list[float] | None] = [None] * len(hyps)
    if not keep:
        return out
    _, (stats,) = sacre_stats(metric, name, tgt_lang, [[hyps[i] for i in keep]], [refs[i] for i in keep],
                              [(where, float(entry["score"]))])
    for i, row in zip(keep, stats.tolist(), strict=True):
        out[i] = [int(x) if x.is_integer() else x for x in row]
    return out


def view_of_run(run_dir: str | Path) -> RunView:
    """Read a run directory (``scores.json`` + ``segments.jsonl``) into a :class:`RunView`.

    Sufficient statistics are computed on first use (:meth:`RunView.stats_for`), after the
    cheap comparability checks.
    """
    run = load_run(run_dir)
    where = str(run_dir)
    rows = run.segments
    hyps = [r["hyp"] for r in rows]
    refs = [list(r.get("refs") or []) for r in rows]
    direction = run.scores.get("direction", "")
    metrics = dict(run.scores.get("metrics", {}))
    return RunView(
        label=where, dataset=run.dataset, system=run.system, direction=direction,
        ids=[str(r["id"]) for r in rows], src_sha=[digest(r["src"], 16) for r in rows],
        refs_sha=[digest(x, 16) for x in refs], hyps=hyps, metrics=metrics,
        segment_scores={name: [r.get(name) for r in rows] for name in metrics}, refs=refs,
    )


def baseline_text(view: RunView, *, source: str) -> str:
    """The baseline file for a run view: a readable header and one JSON object per segment line."""
    header = {
        "format": FORMAT,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "source_run": source,
        "dataset": view.dataset,
        "system": view.system,
        "direction": view.direction,
        "n_segments": len(view.ids),
        "metrics": view.metrics,
    }
    lines = []
    for i, seg_id in enumerate(view.ids):
        row = {"id": seg_id, "src_sha": view.src_sha[i], "refs_sha": view.refs_sha[i], "hyp": view.hyps[i],
               "scores": {m: s[i] for m, s in view.segment_scores.items()},
               "stats": {m: s[i] for m, s in view.stats.items()}}
        lines.append("    " + json.dumps(row, ensure_ascii=False, separators=(",", ":")))
    head = json.dumps(header, ensure_ascii=False, indent=2)
    return head[:-2] + ',\n  "segments": [\n' + ",\n".join(lines) + "\n  ]\n}\n"


def write_baseline(run_dir: str | Path, out: str | Path, *, metrics: list[str] | None = None) -> Path:
    """Snapshot a finished run as a baseline file (atomically; see :mod:`mteval.files` for what ``out`` may be).

    Args:
        run_dir: the run directory. out: the baseline file to write.
        metrics: keep only these metrics (None keeps all of the run's).
    """
    view = view_of_run(run_dir)
    if metrics is not None:
        missing = [m for m in metrics if m not in view.metrics]
        if missing:
            raise InputError(Path(run_dir) / "scores.json", None, f"has no metric {', '.join(missing)}")
        view.metrics = {m: view.metrics[m] for m in metrics}
        view.segment_scores = {m: view.segment_scores[m] for m in metrics}
    for name in view.metrics:
        view.stats_for(name)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(out, baseline_text(view, source=str(run_dir)))
    return out


def load_baseline(path: str | Path) -> RunView:
    """Read a baseline file written by :func:`write_baseline`, or snapshot a finished run directory.

    Raises:
        InputError: missing file, not JSON, not an ``mteval-baseline/1`` file, or a field missing or
            of the wrong type.
    """
    path = Path(path)
    if path.is_dir():
        if (path / "scores.json").is_file():
            # A finished run directory: snapshot it on the fly. Its statistics are recomputed and
            # checked against its own scores.json, exactly as --write-baseline would.
            return view_of_run(path)
        raise InputError(path, None, "is a directory, not a baseline file nor a finished run directory "
                                     "(make a baseline with mteval-gate --write-baseline RUN_DIR --out FILE)")
    try:
        data = json.loads(read_text(path, missing="baseline file not found (create one with mteval-gate "
                                                  "--write-baseline)"))
    except json.JSONDecodeError as err:
        raise InputError(path, err.lineno, f"not valid JSON: {err.msg}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InputError(path, None, f"not an {FORMAT} baseline file (make one with mteval-gate --write-baseline)")
    check_baseline(data, path)
    segs = data["segments"]
    metrics = data["metrics"]
    return RunView(
        label=str(path), dataset=data["dataset"], system=data["system"], direction=data["direction"],
        ids=[str(s["id"]) for s in segs], src_sha=[s["src_sha"] for s in segs], refs_sha=[s["refs_sha"] for s in segs],
        hyps=[s["hyp"] for s in segs], metrics=metrics,
        segment_scores={m: [s["scores"].get(m) for s in segs] for m in metrics},
        stats={m: [s["stats"][m] for s in segs] for m in metrics if segs and m in segs[0]["stats"]},
    )
