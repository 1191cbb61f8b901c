"""Schema checks for what a run directory and a baseline file store: one InputError naming the first bad field.

Runs and baselines are read by the gate in CI, where a crash must never read as a regression:
every field the gate or the comparison uses is checked for presence and type here, at the
boundary, so nothing below sees a missing key or a string where a number belongs.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from mteval.errors import InputError
from mteval.metrics.spans import check_spans, spans_key
from mteval.types import Direction
from mteval.validate import SettingError


def is_number(x: Any) -> bool:
    """A finite int or float (a JSON bool is not a number here)."""
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


_KIND_NAMES = {(int, float): "a number", (int,): "a whole number", (str,): "a string", (list,): "a list",
               (dict,): "an object", (str, int): "a string or a whole number"}


def _type(x: Any) -> str:
    return "null" if x is None else type(x).__name__


def require(obj: dict[str, Any], key: str, kind: type | tuple[type, ...], path: Path | str, line: int | None,
            where: str = "") -> Any:
    """``obj[key]``, refused when missing or not of ``kind``."""
    label = f"'{where}{key}'"
    if key not in obj:
        raise InputError(path, line, f"missing key {label}")
    value = obj[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    # JSON true/false load as bool, a subclass of int: never accept them where a number belongs.
    if not isinstance(value, kinds) or isinstance(value, bool) and bool not in kinds:
        names = _KIND_NAMES.get(kinds, "/".join(k.__name__ for k in kinds))
        raise InputError(path, line, f"{label} must be {names}, got {_type(value)}")
    return value


def check_direction(direction: str, path: Path | str) -> None:
    try:
        Direction.parse(direction)
    except SettingError:
        raise InputError(path, None, f"'direction' must look like 'en-zh', got {direction!r}") from None


def check_metric_entries(metrics: Any, path: Path | str) -> dict[str, dict[str, Any]]:
    """The ``metrics`` mapping of scores.json or a baseline: name -> {score, signature, higher_is_better}."""
    if not isinstance(metrics, dict):
        raise InputError(path, None, f"'metrics' must be an object (metric name -> entry), got {_type(metrics)}")
    for name, entry in metrics.items():
        where = f"metrics.{name}."
        if not isinstance(entry, dict):
            raise InputError(path, None, f"'metrics.{name}' must be an object, got {_type(entry)}")
        score = require(entry, "score", (int, float), path, None, where)
        if not is_number(score):
            raise InputError(path, None, f"'{where}score' must be a finite number, got {score}")
        require(entry, "signature", str, path, None, where)
        if "higher_is_better" in entry and not isinstance(entry["higher_is_better"], bool):
            raise InputError(path, None, f"'{where}higher_is_better' must be true or false, "
                                         f"got {_type(entry['higher_is_better'])}")
    return metrics


def check_segment_scores(row: dict[str, Any], metrics: dict[str, Any], path: Path | str, line: int | None,
                         scores_key: str | None = None, where: str = "") -> None:
    """Each metric's segment score in ``row`` (or ``row[scores_key]``) is a finite number or null."""
    holder = row if scores_key is None else require(row, scores_key, dict, path, line)
    for name in metrics:
        value = holder.get(name)
        if value is not None and not is_number(value):
            raise InputError(path, line, f"{where}segment score {name!r} must be a finite number or null, "
                                         f"got {value!r}")


def check_run_scores(scores: Any, path: Path | str) -> dict[str, Any]:
    """A run's ``scores.json``: dataset, system, direction, n_segments and metric entries."""
    if not isinstance(scores, dict):
        raise InputError(path, None, f"expected a JSON object, got {_type(scores)}")
    for key in ("dataset", "system", "direction"):
        require(scores, key, str, path, None)
    check_direction(scores["direction"], path)
    n = require(scores, "n_segments", int, path, None)
    if n < 0:
        raise InputError(path, None, f"'n_segments' must be >= 0, got {n}")
    check_metric_entries(require(scores, "metrics", dict, path, None), path)
    return scores


def check_run_segment(row: dict[str, Any], metrics: dict[str, Any], path: Path | str, line: int) -> None:
    """One ``segments.jsonl`` row: id, src, hyp, refs and the metric segment scores."""
    require(row, "id", (str, int), path, line)
    for key in ("src", "hyp"):
        require(row, key, str, path, line)
    refs = row.get("refs")
    if refs is not None and not (isinstance(refs, list) and all(isinstance(r, str) for r in refs)):
        raise InputError(path, line, f"'refs' must be a list of strings, got {refs!r:.80}")
    check_segment_scores(row, metrics, path, line)
    for name in metrics:  # error spans (XCOMET) are highlighted in the report: offsets must fit the hypothesis
        if spans_key(name) in row:
            check_spans(row[spans_key(name)], row["hyp"], spans_key(name), path, line)


def check_baseline(data: dict[str, Any], path: Path | str) -> None:
    """Everything :func:`mteval.gate.baseline.load_baseline` reads, before it reads it."""
    for key in ("dataset", "system", "direction"):
        require(data, key, str, path, None)
    check_direction(data["direction"], path)
    metrics = check_metric_entries(require(data, "metrics", dict, path, None), path)
    if not metrics:
        raise InputError(path, None, "'metrics' is empty: nothing to gate")
    segs = require(data, "segments", list, path, None)
    if not segs:
        raise InputError(path, None, "'segments' is empty: nothing to compare")
    if "n_segments" in data and data["n_segments"] != len(segs):
        raise InputError(path, None, f"'n_segments' says {data['n_segments']} but 'segments' has {len(segs)}")
    stats_names: set[str] | None = None
    widths: dict[str, int] = {}
    for i, seg in enumerate(segs, start=1):
        where = f"segments[{i}]."
        if not isinstance(seg, dict):
            raise InputError(path, None, f"segment {i} must be an object, got {_type(seg)}")
        require(seg, "id", (str, int), path, None, where)
        for key in ("src_sha", "refs_sha", "hyp"):
            require(seg, key, str, path, None, where)
        check_segment_scores(seg, metrics, path, None, "scores", f"segment {i}: ")
        stats = require(seg, "stats", dict, path, None, where)
        if stats_names is None:
            stats_names = set(stats)
        elif set(stats) != stats_names:
            raise InputError(path, None, f"segment {i} has statistics for {sorted(stats)}, the first segment "
                                         f"for {sorted(stats_names)}")
        for name, row in stats.items():
            if row is None:
                continue
            if not isinstance(row, list) or not row or not all(is_number(x) for x in row):
                raise InputError(path, None, f"segment {i}: stats {name!r} must be a list of finite numbers or null")
            if widths.setdefault(name, len(row)) != len(row):
                raise InputError(path, None, f"segment {i}: stats {name!r} has {len(row)} numbers, "
                                             f"earlier segments {widths[name]}")
