"""Run directories: write hypotheses, segment tables and scores.json (whole files or none); read them back."""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mteval.data.jsonl import read_jsonl
from mteval.data.userfile import read_text
from mteval.errors import InputError, OutputError, UnsafeOutputError
from mteval.files import json_text, write_atomic
from mteval.text.escape import csv_safe_frame
from mteval.results.leaderboard import append_leaderboard  # noqa: F401 - app.py writes a run and its row from here
from mteval.results.schema import check_run_scores, check_run_segment
from mteval.metrics.spans import FIELD as SPANS_FIELD
from mteval.metrics.spans import spans_key
from mteval.types import RunResult

if TYPE_CHECKING:
    import pandas as pd


def write_run(run_dir: str | Path, result: RunResult, *, config_yaml: str | None = None) -> Path:
    """Write ``hypotheses.txt``, ``segments.jsonl``, ``segments.csv``, ``corpus_summary.json``
    (and ``config.yaml`` when given) and, last, ``scores.json`` into ``run_dir``.

    Each file is written whole or not at all; the hypotheses go first, so a disk that fills up
    part-way still keeps the finished translations, and ``scores.json`` last, so a run directory
    with a scores.json is always complete.

    Raises:
        OutputError: a file could not be written (read-only directory, full disk), naming it.
    """
    run_dir = Path(run_dir)
    rows = result.segment_rows()
    written: list[str] = []
    name = str(run_dir)
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        # Hypotheses one per line; a line break inside a hypothesis (\n, \r, U+2028, NEL...) would
        # shift every later line when the file is read back with system=file.
        files: list[tuple[str, str | Callable[[Path], None]]] = [
            ("hypotheses.txt", "".join(" ".join(h.splitlines()) + "\n" for h in result.hypotheses)),
            ("segments.jsonl", "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)),
            ("segments.csv", lambda tmp: _segments_table(rows).to_csv(tmp, index=False)),
            ("corpus_summary.json", json_text(result.corpus.summary)),
        ]
        if config_yaml is not None:
            files.append(("config.yaml", config_yaml))
        files.append(("scores.json", json_text(result.scores_dict())))
        for name, content in files:
            write_atomic(run_dir / name, content)
            written.append(name)
    except UnsafeOutputError as err:  # a FIFO, a device or a dangling symlink where a file belongs
        kept = f"; kept: {', '.join(written)}" if written else ""
        raise OutputError(f"{run_dir}: cannot write {name}: {err.reason}{kept}") from None
    except OSError as err:
        kept = f"; kept: {', '.join(written)}" if written else ""
        raise OutputError(f"{run_dir}: cannot write {name}: {err.strerror or err}{kept}. Translations already "
                          "in the cache are kept, so a rerun with the same cache does not translate them "
                          "again; free space or choose another hydra.run.dir") from None
    return run_dir


def _segments_table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """segments.csv: one row per segment, references joined, cells a spreadsheet would run as formulas escaped."""
    import pandas as pd  # heavy (0.26 s of every CLI start): only a run that writes segments.csv needs it

    table = pd.DataFrame(rows)
    if "refs" in table:
        table["refs"] = table["refs"].map(lambda r: " ||| ".join(r))
    for col in (c for c in table.columns if str(c).endswith(f"_{SPANS_FIELD}")):  # JSON, not Python's repr
        table[col] = table[col].map(lambda v: "" if v is None else json.dumps(v, ensure_ascii=False))
    return csv_safe_frame(table)


@dataclass
class LoadedRun:
    """A finished run read back from disk: its scores.json and per-segment rows."""

    path: Path
    scores: dict[str, Any]
    segments: list[dict[str, Any]]

    @property
    def system(self) -> str:
        return self.scores["system"]

    @property
    def dataset(self) -> str:
        return self.scores["dataset"]

    def signature(self, metric: str) -> str:
        return self.scores["metrics"][metric]["signature"]

    def segment_scores(self, metric: str) -> list[float | None]:
        return [row.get(metric) for row in self.segments]

    def error_spans(self, metric: str) -> list[list[dict[str, Any]] | None] | None:
        """A metric's error spans per segment (XCOMET), or None when the run stored none."""
        key = spans_key(metric)
        return [row.get(key) for row in self.segments] if any(key in row for row in self.segments) else None


def load_run(run_dir: str | Path) -> LoadedRun:
    """Read a run directory written by :func:`write_run`.

    Raises:
        InputError: the directory has no scores.json / segments.jsonl, or they disagree.
    """
    run_dir = Path(run_dir)
    scores_path = run_dir / "scores.json"
    seg_path = run_dir / "segments.jsonl"
    for p in (scores_path, seg_path):
        if not p.is_file():
            raise InputError(p, None, "missing: not a finished mteval run directory")
    try:
        scores = json.loads(read_text(scores_path))
    except json.JSONDecodeError as err:
        raise InputError(scores_path, err.lineno, f"not valid JSON: {err.msg}") from None
    check_run_scores(scores, scores_path)
    numbered = read_jsonl(seg_path)
    for line, row in numbered:
        check_run_segment(row, scores["metrics"], seg_path, line)
    segments = [obj for _, obj in numbered]
    if len(segments) != scores["n_segments"]:
        raise InputError(seg_path, None, f"{len(segments)} rows but scores.json says {scores['n_segments']}")
    return LoadedRun(run_dir, scores, segments)
