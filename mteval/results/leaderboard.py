"""The leaderboard CSV: one row per run, updated under a file lock, with a score and a signature hash per metric.

Rows are keyed by ``run``: a hash of what determines the result (dataset, direction, system and
its fingerprint, data provenance, metric signatures), so rerunning the same evaluation replaces
its row instead of adding a duplicate. The columns are those of the metrics the runs scored:
``<metric>`` holds the score and ``<metric>_sig`` a hash of its signature, so two rows' BLEU are
comparable when their ``bleu_sig`` (and ``nrefs``) match, as sacrebleu's signatures say; ``sig``
hashes all of a run's signatures. A run with a metric the file has no column for extends the
header; rows keep their values. The file is a local record (kept out of git); a run whose scores
were written never fails because the leaderboard cannot be updated: it warns and says where the
results are.
"""
from __future__ import annotations

import csv
import io
import logging
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mteval.data.userfile import read_text
from mteval.errors import InputError, OutputError
from mteval.files import append_text, digest, locked, output_target, write_atomic
from mteval.text.escape import csv_cell
from mteval.types import RunResult

log = logging.getLogger(__name__)

LEADING = ("time", "run", "dataset", "direction", "system", "n_segments", "nrefs")
TRAILING = ("sig", "run_dir", "git")
#: Every version of the file had these: a CSV without them is not a leaderboard and is moved aside.
_IDENTITY = ("system", "run_dir")


def columns(metrics: Iterable[str]) -> list[str]:
    """The header for runs scored with ``metrics``: each metric's score, then its signature hash."""
    return [*LEADING, *(c for m in metrics for c in (m, f"{m}_sig")), *TRAILING]


def leaderboard_row(result: RunResult, run_dir: str | Path, *, when: str) -> dict[str, Any]:
    """The row of one run: every metric it scored (rounded to 4 decimals) with its signature hash."""
    signatures = {name: m.signature for name, m in result.metrics.items()}
    counts = sorted({len(s.refs) for s in result.corpus.segments}) or [0]
    prov = result.provenance
    run_key = digest({"dataset": result.dataset, "direction": result.corpus.direction, "system": result.system,
                      "fingerprint": prov.get("system"), "data": prov.get("data"), "signatures": signatures}, 12)
    row: dict[str, Any] = {
        "time": when, "run": run_key, "dataset": result.dataset, "direction": result.corpus.direction,
        "system": result.system, "n_segments": len(result.corpus),
        "nrefs": str(counts[0]) if len(counts) == 1 else f"{counts[0]}-{counts[-1]}",
        "sig": digest(signatures, 12) if signatures else "", "run_dir": str(run_dir), "git": prov.get("git"),
    }
    for name, m in result.metrics.items():
        row[name] = round(m.score, 4)
        row[f"{name}_sig"] = digest(m.signature, 12)
    return row


def merged_header(header: list[str], wanted: list[str]) -> list[str]:
    """``header`` with the ``wanted`` columns it lacks: a signature hash right after its metric, any other
    column before the next wanted column the header has (a new metric after the metrics already there,
    before ``sig``), else at the end. No column is dropped or moved."""
    out = list(header)
    for i, col in enumerate(wanted):
        if col in out:
            continue
        if col.endswith("_sig") and col[: -len("_sig")] in out:
            out.insert(out.index(col[: -len("_sig")]) + 1, col)
            continue
        before = next((c for c in wanted[i + 1 :] if c in out), None)
        out.insert(out.index(before) if before is not None else len(out), col)
    return out


def _read(path: Path) -> tuple[list[str] | None, list[list[str]]]:
    """The header and rows of an existing leaderboard (None and [] for a missing or empty file)."""
    if not path.exists():
        return None, []
    text = read_text(path)  # a FIFO or device would block or never end: refused, as is a file over the bound
    if not text:
        return None, []
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    return header, list(reader)


def _ends_with_newline(path: Path) -> bool:
    """False for a hand-edited file whose last line has no line break (an appended row would join it)."""
    with open(path, "rb") as f:
        f.seek(-1, os.SEEK_END)
        return f.read(1) == b"\n"


def _csv(header: list[str], rows: list[dict[str, Any]], *, with_header: bool) -> str:
    buf = io.StringIO(newline="")
    writer = csv.DictWriter(buf, fieldnames=header, restval="")
    if with_header:
        writer.writeheader()
    writer.writerows({k: csv_cell(v) for k, v in r.items()} for r in rows)
    return buf.getvalue()


def _move_aside(path: Path, why: str) -> None:
    aside = path.with_name(f"{path.stem}.old-{time.strftime('%Y%m%d-%H%M%S')}{path.suffix}")
    path.replace(aside)
    log.warning("%s %s; moved it to %s and started a new leaderboard", path, why, aside)


def _update(path: Path, row: dict[str, Any], wanted: list[str]) -> None:
    header, cells = _read(path)
    if header is not None:
        # Keep a file whole where rewriting it could lose or shift a value.
        if not all(c in header for c in _IDENTITY):
            _move_aside(path, f"is not a leaderboard (no {' or '.join(_IDENTITY)} column)")
            header, cells = None, []
        elif len(set(header)) != len(header) or not all(header) or any(len(r) > len(header) for r in cells):
            _move_aside(path, "has a repeated or empty column name, or a row longer than its header")
            header, cells = None, []
    rows = [dict(zip(header or [], r)) for r in cells]
    same = [r for r in rows if r.get("run") == row["run"] or r.get("run_dir") == row["run_dir"]]
    new_header = wanted if header is None else merged_header(header, wanted)
    if header is None or new_header == header and not same and _ends_with_newline(path):
        # Under the lock, so concurrent first runs write one header.
        append_text(path, _csv(new_header, [row], with_header=header is None))
        return
    if header is not None and not {"sig", "nrefs"} <= set(header):
        log.warning("%s: old leaderboard header; rows rewritten with the new columns (sig and nrefs empty "
                    "for old rows: their scores cannot be assumed comparable)", path)
    write_atomic(path, _csv(new_header, [r for r in rows if r not in same] + [row], with_header=True))


def append_leaderboard(path: str | Path, result: RunResult, run_dir: str | Path, *, when: str) -> bool:
    """Add the run's row to the leaderboard (replacing the row of an earlier run with the same key or run dir).

    Returns:
        False, after a one-line warning, when the leaderboard cannot be written (read-only, full
        disk, not a CSV file, a FIFO or a device): the run's own files are already written and the
        run still succeeds.
    """
    path = Path(path)
    row = leaderboard_row(result, run_dir, when=when)
    try:
        target = output_target(path)  # a symlink to the real file is written through
        target.parent.mkdir(parents=True, exist_ok=True)
        with locked(target):
            _update(target, row, columns(result.metrics))
    except OutputError as err:
        log.warning("leaderboard not updated (%s); this run's results are complete in %s", err, run_dir)
        return False
    except (OSError, UnicodeDecodeError, csv.Error, InputError) as err:
        reason = err.message if isinstance(err, InputError) else str(err)
        if isinstance(err, OSError) and err.strerror:
            reason = err.strerror + (f": {err.filename}" if err.filename else "")
        log.warning("leaderboard %s not updated (%s); this run's results are complete in %s", path, reason, run_dir)
        return False
    return True
