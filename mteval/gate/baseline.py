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

import hashlib
import inspect
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mteval.data.userfile import read_text
from mteval.errors import IncomparableError, InputError, MtevalError
from mteval.results.schema import check_baseline

FORMAT = "mteval-baseline/1"


def short_hash(obj: Any) -> str:
    """The first 16 hex digits of the sha256 of ``obj`` as canonical JSON."""
    data = json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return hashlib.sha256(data).hexdigest()[:16]


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
        return self.direction.split("-")[1]

    def stats_for(self, name: str) -> list[list[float] | None] | None:
        """Sufficient statistics of a sacrebleu metric (computed once for a run dir); None for others."""
        if name not in self.stats and self.refs is not None:
            stats = sacre_stats(name, self.metrics[name], self.hyps, self.refs, self.tgt_lang, self.label)
            if stats is not None:
                self.stats[name] = stats
        return self.stats.get(name)


def rebuild_metric(name: str, entry: dict[str, Any], where: str) -> Any:
    """Instantiate the metric a ``scores.json`` entry describes (``metric.class`` and ``settings``).

    Only classes inside the ``mteval`` package are imported: a baseline file must not be able to
    run arbitrary code.
    """
    spec = entry.get("metric")
    if not isinstance(spec, dict) or "class" not in spec:
        raise IncomparableError(f"{where}: metric {name!r} has no 'metric.class' in scores.json; "
                                "re-run it with this version of mteval")
    from mteval.metrics.base import metric_class

    try:
        cls = metric_class(spec["class"])
    except LookupError as err:
        raise IncomparableError(f"{where}: metric {name!r}: {err}") from None
    settings = spec.get("settings", {})
    if not isinstance(settings, dict):
        raise IncomparableError(f"{where}: metric {name!r}: 'metric.settings' must be an object")
    params = inspect.signature(cls).parameters
    try:
        return cls(**{k: v for k, v in settings.items() if k in params})
    except (TypeError, ValueError, MtevalError) as err:
        raise IncomparableError(f"{where}: metric {name!r}: its settings {settings} cannot be rebuilt: {err}") from None


def sacre_stats(
    name: str, entry: dict[str, Any], hyps: list[str], refs: list[list[str]], tgt_lang: str, where: str
) -> list[list[float] | None] | None:
    """Per-segment sacrebleu sufficient statistics for a BLEU/chrF/TER entry; None for other metrics.

    Segments without a reference get None (the metric did not score them). The statistics are
    checked against the run's own corpus score, so a baseline can never be built or compared with
    settings that do not reproduce the number in ``scores.json``.
    """
    from mteval.metrics.sacre import SacreMetric, ref_streams

    metric = rebuild_metric(name, entry, where)
    if not isinstance(metric, SacreMetric):
        return None
    keep = [i for i, r in enumerate(refs) if r]
    if not keep:
        return [None] * len(hyps)
    sacre = metric.sacrebleu_metric(tgt_lang)
    stats = sacre._extract_corpus_statistics(
        metric.prepare([hyps[i] for i in keep], tgt_lang),
        ref_streams([metric.prepare(list(refs[i]), tgt_lang) for i in keep]),
    )
    rebuilt = float(sacre._aggregate_and_compute(stats).score)
    if abs(rebuilt - float(entry["score"])) > 1e-6 * max(1.0, abs(rebuilt)):
        raise IncomparableError(f"{where}: {name} recomputed from segments.jsonl is {rebuilt:.4f}, but scores.json "
                                f"says {entry['score']:.4f}; the run directory was edited or is incomplete")
    out: list[list[float] | None] = [None] * len(hyps)
    for i, s in zip(keep, stats, strict=True):
        out[i] = [float(x) if not float(x).is_integer() else int(x) for x in s]
    return out


def view_of_run(run_dir: str | Path) -> RunView:
    """Read a run directory (``scores.json`` + ``segments.jsonl``) into a :class:`RunView`.

    Sufficient statistics are computed on first use (:meth:`RunView.stats_for`), after the
    cheap comparability checks.
    """
    from mteval.results.io import load_run

    run = load_run(run_dir)
    where = str(run_dir)
    rows = run.segments
    hyps = [r["hyp"] for r in rows]
    refs = [list(r.get("refs") or []) for r in rows]
    direction = run.scores.get("direction", "")
    metrics = dict(run.scores.get("metrics", {}))
    return RunView(
        label=where, dataset=run.dataset, system=run.system, direction=direction,
        ids=[str(r["id"]) for r in rows], src_sha=[short_hash(r["src"]) for r in rows],
        refs_sha=[short_hash(x) for x in refs], hyps=hyps, metrics=metrics,
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
    """Snapshot a finished run as a baseline file (atomically: temp file, then rename).

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
    tmp = out.with_name(f"{out.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(baseline_text(view, source=str(run_dir)), encoding="utf-8")
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)  # a full disk must not leave half a baseline behind
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
