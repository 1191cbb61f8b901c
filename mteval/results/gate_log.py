"""The gate's decisions over time: one CSV row per gated metric (or per refusal), appended under a lock.

``mteval-gate --history FILE`` appends here; ``mteval-history`` marks each decision on the trend of
the run it judged (matched by run directory). Each row carries the metric's signature hash, computed
as the leaderboard's ``<metric>_sig``, so a decision lands on the series it belongs to.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mteval.data.userfile import read_text
from mteval.errors import InputError
from mteval.files import digest, locked, output_target, write_atomic
from mteval.text.escape import csv_cell

COLUMNS = ("time", "status", "dataset", "direction", "system", "run_dir", "baseline", "metric", "metric_sig",
           "baseline_score", "current_score", "effect", "min_effect", "p_value", "failed", "reason")
STATUSES = ("pass", "regression", "refused")


@dataclass(frozen=True)
class GateDecision:
    """One row: the gate's overall status, and one metric's verdict (metric empty for a refusal)."""

    time: str
    status: str
    dataset: str
    direction: str
    system: str
    run_dir: str
    baseline: str
    metric: str = ""
    metric_sig: str = ""
    baseline_score: float | None = None
    current_score: float | None = None
    effect: float | None = None
    min_effect: float | None = None
    p_value: float | None = None
    failed: bool = False
    reason: str = ""


def signature_hash(signature: str) -> str:
    """The hash the leaderboard keeps in ``<metric>_sig``."""
    return digest(signature, 12)


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return round(value, 6)
    return csv_cell(value)


def append_decisions(path: str | Path, decisions: list[GateDecision]) -> Path:
    """Add ``decisions`` to the file: the whole file is rewritten atomically under the lock, so a reader
    never sees half a row and two gates never interleave.

    Raises:
        InputError: the file exists but is not a gate history (its header differs).
        OSError / OutputError: it cannot be written.
    """
    target = output_target(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with locked(target):
        old = read_text(target) if target.exists() else ""
        if old and old.splitlines()[0] != ",".join(COLUMNS):
            raise InputError(target, 1, f"not a gate history (expected the header {','.join(COLUMNS)})")
        buf = io.StringIO(newline="")
        writer = csv.writer(buf)
        if not old:
            writer.writerow(COLUMNS)
        for d in decisions:
            writer.writerow([_cell(getattr(d, c)) for c in COLUMNS])
        if old and not old.endswith("\n"):
            old += "\n"
        return write_atomic(target, old + buf.getvalue())


def _float(row: dict[str, str], key: str, path: Path, line: int) -> float | None:
    text = row[key]
    if text == "":
        return None
    try:
        return float(text)
    except ValueError:
        raise InputError(path, line, f"'{key}' must be a number, got {text!r}") from None


def read_decisions(path: str | Path) -> list[GateDecision]:
    """Every decision in the file, in file order.

    Raises:
        InputError: naming ``file:line`` of a row that is not a gate decision.
    """
    path = Path(path)
    rows = list(csv.reader(io.StringIO(read_text(path), newline="")))
    if not rows:
        return []
    if tuple(rows[0]) != COLUMNS:
        raise InputError(path, 1, f"not a gate history (expected the header {','.join(COLUMNS)})")
    out = []
    for line, cells in enumerate(rows[1:], start=2):
        if len(cells) != len(COLUMNS):
            raise InputError(path, line, f"{len(cells)} fields, the header has {len(COLUMNS)}")
        row = dict(zip(COLUMNS, cells, strict=True))
        if row["status"] not in STATUSES:
            raise InputError(path, line, f"'status' must be one of {', '.join(STATUSES)}, got {row['status']!r}")
        nums = {k: _float(row, k, path, line) for k in ("baseline_score", "current_score", "effect", "min_effect",
                                                        "p_value")}
        out.append(GateDecision(**{**row, **nums, "failed": row["failed"] == "true"}))
    return out
