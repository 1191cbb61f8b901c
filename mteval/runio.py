"""Run directories: write hypotheses, segment tables and scores.json; read them back; the leaderboard."""
from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from mteval.errors import InputError
from mteval.runschema import check_run_scores, check_run_segment
from mteval.types import RunResult, write_json

LEADERBOARD_METRICS = ("bleu", "chrf", "chrf++", "ter", "comet", "cometkiwi")
LEADERBOARD_COLUMNS = ("time", "dataset", "direction", "system", "n_segments", *LEADERBOARD_METRICS, "run_dir", "git")


def write_run(run_dir: str | Path, result: RunResult, *, config_yaml: str | None = None) -> Path:
    """Write ``scores.json``, ``segments.jsonl``, ``segments.csv``, ``hypotheses.txt``,
    ``corpus_summary.json`` (and ``config.yaml`` when given) into ``run_dir``."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    rows = result.segment_rows()
    with open(run_dir / "segments.jsonl.tmp", "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    os.replace(run_dir / "segments.jsonl.tmp", run_dir / "segments.jsonl")
    table = pd.DataFrame(rows)
    table["refs"] = table["refs"].map(lambda r: " ||| ".join(r))
    table.to_csv(run_dir / "segments.csv", index=False)
    # Hypotheses one per line; a line break inside a hypothesis (\n, \r, U+2028, NEL...) would
    # shift every later line when the file is read back with system=file.
    (run_dir / "hypotheses.txt").write_text(
        "".join(" ".join(h.splitlines()) + "\n" for h in result.hypotheses), encoding="utf-8"
    )
    write_json(run_dir / "corpus_summary.json", result.corpus.summary)
    if config_yaml is not None:
        (run_dir / "config.yaml").write_text(config_yaml, encoding="utf-8")
    write_json(run_dir / "scores.json", result.scores_dict())
    return run_dir


def append_leaderboard(path: str | Path, result: RunResult, run_dir: str | Path, *, when: str) -> None:
    """Append one row to the leaderboard CSV (created with a header if missing)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    row: dict[str, Any] = {
        "time": when, "dataset": result.dataset, "direction": result.corpus.direction, "system": result.system,
        "n_segments": len(result.corpus), "run_dir": str(run_dir), "git": result.provenance.get("git"),
    }
    for name in LEADERBOARD_METRICS:
        m = result.metrics.get(name)
        row[name] = "" if m is None else round(m.score, 4)
    new = not path.exists() or path.stat().st_size == 0
    with open(path, "a", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=LEADERBOARD_COLUMNS)
        if new:
            writer.writeheader()
        writer.writerow(row)


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
        scores = json.loads(scores_path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as err:
        raise InputError(scores_path, None, f"not UTF-8 text ({err.reason})") from None
    except json.JSONDecodeError as err:
        raise InputError(scores_path, err.lineno, f"not valid JSON: {err.msg}") from None
    except OSError as err:
        raise InputError(scores_path, None, f"cannot read: {err.strerror}") from None
    check_run_scores(scores, scores_path)
    from mteval.data.jsonl import read_jsonl

    numbered = read_jsonl(seg_path)
    for line, row in numbered:
        check_run_segment(row, scores["metrics"], seg_path, line)
    segments = [obj for _, obj in numbered]
    if len(segments) != scores["n_segments"]:
        raise InputError(seg_path, None, f"{len(segments)} rows but scores.json says {scores['n_segments']}")
    return LoadedRun(run_dir, scores, segments)
