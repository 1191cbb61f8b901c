"""The leaderboard CSV: one row per run, updated under a file lock, each row carrying its signature hash.

Rows are keyed by ``run``: a hash of what determines the result (dataset, direction, system and
its fingerprint, data provenance, metric signatures), so rerunning the same evaluation replaces
its row instead of adding a duplicate. ``sig`` hashes the metric signatures alone: scores in two
rows are comparable only when their ``sig`` (and ``nrefs``) match, as sacrebleu's signatures say.
The file is a local record (kept out of git); a run whose scores were written never fails
because the leaderboard cannot be updated: it warns and says where the results are.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mteval.data.userfile import read_text
from mteval.errors import InputError
from mteval.text.escape import csv_cell
from mteval.types import RunResult

log = logging.getLogger(__name__)

METRICS = ("bleu", "chrf", "chrf++", "ter", "comet", "cometkiwi", "metricx", "metricx_qe")
COLUMNS = ("time", "run", "dataset", "direction", "system", "n_segments", "nrefs", *METRICS, "sig", "run_dir", "git")


def _hash(obj: Any, n: int = 12) -> str:
    data = json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str).encode("utf-8")
    return hashlib.sha256(data).hexdigest()[:n]


def leaderboard_row(result: RunResult, run_dir: str | Path, *, when: str) -> dict[str, Any]:
    """The row of one run (scores rounded to 4 decimals; metrics it lacks left empty)."""
    signatures = {name: result.metrics[name].signature for name in METRICS if name in result.metrics}
    counts = sorted({len(s.refs) for s in result.corpus.segments}) or [0]
    prov = result.provenance
    run_key = _hash({"dataset": result.dataset, "direction": result.corpus.direction, "system": result.system,
                     "fingerprint": prov.get("system"), "data": prov.get("data"), "signatures": signatures})
    row: dict[str, Any] = {
        "time": when, "run": run_key, "dataset": result.dataset, "direction": result.corpus.direction,
        "system": result.system, "n_segments": len(result.corpus),
        "nrefs": str(counts[0]) if len(counts) == 1 else f"{counts[0]}-{counts[-1]}",
        "sig": _hash(signatures) if signatures else "", "run_dir": str(run_dir), "git": prov.get("git"),
    }
    for name in METRICS:
        m = result.metrics.get(name)
        row[name] = "" if m is None else round(m.score, 4)
    return row


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``<path>.lock`` (POSIX ``flock``; released if the process dies)."""
    import fcntl

    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _read(path: Path) -> tuple[list[str] | None, list[dict[str, str]]]:
    """The header and rows of an existing leaderboard (None and [] for a missing or empty file)."""
    if not path.exists():
        return None, []
    text = read_text(path)  # a FIFO or device would block or never end: refused, as is a file over the bound
    if not text:
        return None, []
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    return header, [dict(zip(header or [], r)) for r in reader]


def _ends_with_newline(path: Path) -> bool:
    """False for a hand-edited file whose last line has no line break (an appended row would join it)."""
    with open(path, "rb") as f:
        f.seek(-1, os.SEEK_END)
        return f.read(1) == b"\n"


def _write_all(path: Path, rows: list[dict[str, Any]]) -> None:
    """Rewrite the whole file atomically (temp file, then rename)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=COLUMNS, restval="", extrasaction="ignore")
            writer.writeheader()
            writer.writerows({k: csv_cell(v) for k, v in r.items()} for r in rows)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _update(path: Path, row: dict[str, Any]) -> None:
    header, rows = _read(path)
    same = [r for r in rows if r.get("run") == row["run"] or r.get("run_dir") == row["run_dir"]]
    if header is None or header == list(COLUMNS) and not same and _ends_with_newline(path):
        with open(path, "a", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=COLUMNS)
            if header is None:  # under the lock, so concurrent first runs write one header
                writer.writeheader()
            writer.writerow({k: csv_cell(v) for k, v in row.items()})
        return
    if not set(header) <= set(COLUMNS):
        # Columns this version does not know: keep that file whole and start a new one beside it.
        aside = path.with_name(f"{path.stem}.old-{time.strftime('%Y%m%d-%H%M%S')}{path.suffix}")
        path.replace(aside)
        log.warning("%s has columns this version does not write; moved it to %s and started a new leaderboard",
                    path, aside)
        rows, same = [], []
    elif header != list(COLUMNS):
        log.warning("%s: old leaderboard header; rows rewritten with the new columns (sig and nrefs empty "
                    "for old rows: their scores cannot be assumed comparable)", path)
    _write_all(path, [r for r in rows if r not in same] + [row])


def append_leaderboard(path: str | Path, result: RunResult, run_dir: str | Path, *, when: str) -> bool:
    """Add the run's row to the leaderboard (replacing the row of an earlier run with the same key or run dir).

    Returns:
        False, after a one-line warning, when the leaderboard cannot be written (read-only, full
        disk, not a CSV file): the run's own files are already written and the run still succeeds.
    """
    path = Path(path)
    row = leaderboard_row(result, run_dir, when=when)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with _locked(path):
            _update(path, row)
    except (OSError, UnicodeDecodeError, csv.Error, InputError) as err:
        reason = err.message if isinstance(err, InputError) else str(err)
        if isinstance(err, OSError) and err.strerror:
            reason = err.strerror + (f": {err.filename}" if err.filename else "")
        log.warning("leaderboard %s not updated (%s); this run's results are complete in %s", path, reason, run_dir)
        return False
    return True
