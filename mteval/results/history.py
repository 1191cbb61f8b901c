"""A system's scores over the leaderboard's past runs, per test set and metric, joined only where the signature matches.

A series is one (dataset, direction, system, metric), its runs in time order. Consecutive runs stay
on one line while the metric's signature hash (the leaderboard's ``<metric>_sig``), the segment
count and the reference count agree; where one changes the line breaks, and the break says why:
the signature fields that differ, read from the two runs' ``scores.json`` (the leaderboard keeps
only the hash), or the hashes when a run directory is gone. Gate decisions
(:mod:`mteval.results.gate_log`) are attached to the run they judged.
"""
from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from mteval.data.userfile import read_text
from mteval.errors import InputError
from mteval.results.gate_log import GateDecision
from mteval.results.leaderboard import LEADING
from mteval.signature import Signature

REQUIRED = ("time", "dataset", "direction", "system", "n_segments", "run_dir")


@dataclass
class Point:
    """One run's score in a series, with the gate decisions about that run and metric."""

    time: str
    score: float
    sig: str
    n_segments: int
    nrefs: str
    run_dir: str
    line: int
    gate: list[GateDecision] = field(default_factory=list)


@dataclass
class Segment:
    """Runs joined on one line; ``reason`` says why the line broke before it (None for the first)."""

    points: list[Point]
    reason: str | None = None


@dataclass
class Series:
    dataset: str
    direction: str
    system: str
    metric: str
    segments: list[Segment]

    @property
    def title(self) -> str:
        return f"{self.dataset} ({self.direction}) · {self.system} · {self.metric}"


def _metrics(header: list[str]) -> list[str]:
    """Metric columns: those followed by their ``_sig`` hash column."""
    return [c for c in header if f"{c}_sig" in header and c not in LEADING]


def read_leaderboard(path: str | Path) -> tuple[list[str], list[dict[str, str | int]]]:
    """The metric names and the rows (each with its ``line``), checked.

    Raises:
        InputError: the file is not a leaderboard, or ``file:line`` of the first malformed row.
    """
    path = Path(path)
    try:
        text = read_text(path)
    except UnicodeDecodeError:
        raise InputError(path, None, "not UTF-8 text; is this the leaderboard CSV?") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        return [], []
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InputError(path, 1, f"not a leaderboard: no {', '.join(missing)} column")
    metrics = _metrics(header)
    rows: list[dict[str, str | int]] = []
    try:
        for cells in reader:
            line = reader.line_num
            if not any(cells):
                continue
            if len(cells) != len(header):
                raise InputError(path, line, f"{len(cells)} fields, the header has {len(header)}")
            row: dict[str, str | int] = dict(zip(header, cells, strict=True))
            _check_row(row, metrics, path, line)
            row["line"] = line
            rows.append(row)
    except csv.Error as err:
        raise InputError(path, reader.line_num, f"not CSV: {err}") from None
    return metrics, rows


def _check_row(row: dict, metrics: list[str], path: Path, line: int) -> None:
    try:
        datetime.fromisoformat(row["time"])
    except ValueError:
        raise InputError(path, line, f"'time' must be a date and time such as 2026-01-31T12:00:00, "
                                     f"got {row['time']!r}") from None
    if not row["n_segments"].isdigit():
        raise InputError(path, line, f"'n_segments' must be a whole number, got {row['n_segments']!r}")
    for m in metrics:
        if row[m] == "":
            continue
        try:
            float(row[m])
        except ValueError:
            raise InputError(path, line, f"'{m}' must be a number or empty, got {row[m]!r}") from None
        if not row[f"{m}_sig"]:
            raise InputError(path, line, f"'{m}' has a score but no signature hash in '{m}_sig'")


def _signature(run_dir: str, metric: str) -> str | None:
    """The metric's full signature from the run's scores.json, or None when it cannot be read."""
    try:
        return str(json.loads(read_text(Path(run_dir) / "scores.json"))["metrics"][metric]["signature"])
    except (OSError, ValueError, KeyError, TypeError, InputError):
        return None


def signature_change(old: str, new: str) -> str:
    """The fields that differ between two signatures: ``tok 13a -> zh, version 2.5.1 -> 2.6.0, +qe:no``."""
    try:
        a, b = dict(Signature.parse(old)), dict(Signature.parse(new))
    except ValueError:
        return f"{old} -> {new}"
    changes = [f"{k} {a[k]} -> {b[k]}" for k in a if k in b and a[k] != b[k]]
    changes += [f"-{k}:{a[k]}" for k in a if k not in b] + [f"+{k}:{b[k]}" for k in b if k not in a]
    return ", ".join(changes) or "the same fields in another order"


def why_break(metric: str, prev: Point, cur: Point) -> str | None:
    """Why ``cur`` cannot join ``prev``'s line, or None when it can."""
    reasons = []
    if cur.n_segments != prev.n_segments:
        reasons.append(f"{prev.n_segments} -> {cur.n_segments} segments")
    if cur.nrefs != prev.nrefs:
        reasons.append(f"references per segment {prev.nrefs or '?'} -> {cur.nrefs or '?'}")
    if cur.sig != prev.sig:
        old, new = _signature(prev.run_dir, metric), _signature(cur.run_dir, metric)
        if old is not None and new is not None:
            reasons.append(f"{metric} signature: {signature_change(old, new)}")
        else:
            gone = prev.run_dir if old is None else cur.run_dir
            reasons.append(f"{metric} signature hash {prev.sig} -> {cur.sig} (full signature unreadable: "
                           f"{gone}/scores.json)")
    return "; ".join(reasons) or None


def _attach(points: list[Point], decisions: list[GateDecision], metric: str) -> None:
    by_dir: dict[str, list[Point]] = {}
    for p in points:
        by_dir.setdefault(os.path.realpath(p.run_dir), []).append(p)
    for d in decisions:
        if d.metric in (metric, ""):
            for p in by_dir.get(d.run_dir, []):
                if not d.metric_sig or d.metric_sig == p.sig:
                    p.gate.append(d)


def build_series(metrics: list[str], rows: list[dict], decisions: list[GateDecision] | None = None, *,
                 dataset: str | None = None, system: str | None = None, metric: str | None = None) -> list[Series]:
    """Every (dataset, direction, system, metric) with a score, filtered, its runs in time order and broken
    where they cannot be joined."""
    out = []
    groups: dict[tuple[str, str, str], list[dict]] = {}
    for row in rows:
        if (dataset is None or row["dataset"] == dataset) and (system is None or row["system"] == system):
            groups.setdefault((row["dataset"], row["direction"], row["system"]), []).append(row)
    for (ds, direction, sys_name), members in sorted(groups.items()):
        members.sort(key=lambda r: (datetime.fromisoformat(r["time"]), r["line"]))
        for m in metrics:
            if metric is not None and m != metric:
                continue
            points = [Point(time=r["time"], score=float(r[m]), sig=r[f"{m}_sig"], n_segments=int(r["n_segments"]),
                            nrefs=r.get("nrefs", ""), run_dir=r["run_dir"], line=r["line"])
                      for r in members if r[m] != ""]
            if not points:
                continue
            _attach(points, decisions or [], m)
            segments = [Segment([points[0]])]
            for prev, cur in zip(points, points[1:]):
                reason = why_break(m, prev, cur)
                if reason is None:
                    segments[-1].points.append(cur)
                else:
                    segments.append(Segment([cur], reason))
            out.append(Series(ds, direction, sys_name, m, segments))
    return out
