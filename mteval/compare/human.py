"""Human scores for meta-evaluation: read CSV/TSV or WMT DA files, match their systems and segments to the runs.

Formats (detected from the first line):
- CSV or TSV (tab when the first line has one): ``system,score[,segment]``, with or without a
  header row naming those columns. A row without a segment is a system score; a row with one is
  a segment score. A system given only segment scores gets their mean as its system score.
- WMT DA releases (space-separated, header first): ``ad-sys-scores-*.csv`` (``RAW.SCR Z.SCR N SYS
  N.ALL``) and ``ad-seg-scores-*.csv`` (``SYS SID RAW.SCR Z.SCR N``); the z-score (``Z.SCR``, the
  ranking score) is used and the system name is ``SYS`` without its ``.<id>`` suffix.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mteval.compare.load import RunSet
from mteval.data.userfile import read_text
from mteval.errors import InputError

# How a segment column names segments: the runs' segment ids (segments.jsonl "id"), or 1-based
# positions in the test set.
SEGMENT_KEYS = ("id", "line")
_WMT_SUFFIX = re.compile(r"\.\d+$")
# WMT DA: the segment ids (SID) of the WMT22 zh-en release do not line up with the test set's
# lines (segment-level chrF against DA z: Kendall 0.01 at SID = line, no better at any shift;
# wmt-conference/wmt22-news-systems issue 7 asks the same, unanswered), so they are used only
# when --human-segments line says they are line numbers.
WMT_SID_HINT = ("WMT DA segment ids (SID) are not documented to be test-set line numbers; give "
                "--human-segments line to use them as 1-based line numbers, or pass only the ad-sys-scores file")


@dataclass
class HumanScores:
    """Human scores as read: per system, and per system and segment key."""

    files: list[str]
    systems: dict[str, float] = field(default_factory=dict)
    segments: dict[str, dict[str, float]] = field(default_factory=dict)
    wmt_segments: bool = False
    notes: list[str] = field(default_factory=list)


def _float(text: str, path: Path, line: int, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InputError(path, line, f"{what} {text!r} is not a number") from None
    if not np.isfinite(value):
        raise InputError(path, line, f"{what} {text!r} is not a finite number")
    return value


def _add(scores: HumanScores, path: Path, line: int, system: str, value: float, segment: str | None) -> None:
    if not system:
        raise InputError(path, line, "empty system name")
    if segment is None:
        if system in scores.systems:
            raise InputError(path, line, f"a second system score for {system!r}")
        scores.systems[system] = value
        return
    per = scores.segments.setdefault(system, {})
    if segment in per:
        raise InputError(path, line, f"a second score for {system!r} on segment {segment!r}")
    per[segment] = value


def _read_wmt(path: Path, rows: list[list[str]], scores: HumanScores) -> None:
    header = rows[0]
    col = {name: k for k, name in enumerate(header)}
    for n, row in enumerate(rows[1:], 2):
        if not row:
            continue
        if len(row) != len(header):
            raise InputError(path, n, f"{len(row)} fields, the header has {len(header)}")
        system = _WMT_SUFFIX.sub("", row[col["SYS"]])
        value = _float(row[col["Z.SCR"]], path, n, "Z.SCR")
        _add(scores, path, n, system, value, row[col["SID"]] if "SID" in col else None)
    scores.wmt_segments |= "SID" in col


def _read_table(path: Path, rows: list[list[str]], scores: HumanScores) -> None:
    first = [c.strip().lower() for c in rows[0]]
    has_header = "system" in first or "score" in first
    if has_header:
        missing = [c for c in ("system", "score") if c not in first]
        if missing:
            raise InputError(path, 1, f"the header has no {' or '.join(missing)} column "
                             "(expected system,score[,segment])")
        cols = (first.index("system"), first.index("score"), first.index("segment") if "segment" in first else None)
    else:
        cols = (0, 1, 2)
    for n, row in enumerate(rows[1:] if has_header else rows, 2 if has_header else 1):
        if not row or not "".join(row).strip():
            continue
        if len(row) < 2 or (cols[2] is None and len(row) < max(cols[:2]) + 1):
            raise InputError(path, n, "expected system,score[,segment]")
        segment = row[cols[2]].strip() if cols[2] is not None and len(row) > cols[2] and row[cols[2]].strip() else None
        _add(scores, path, n, row[cols[0]].strip(), _float(row[cols[1]].strip(), path, n, "score"), segment)


def read_human(paths: list[str | Path]) -> HumanScores:
    """Read one or more human score files (e.g. a WMT system file and its segment file).

    Raises:
        InputError: a missing or empty file, a malformed row, or a score given twice.
    """
    scores = HumanScores(files=[str(p) for p in paths])
    for raw in paths:
        path = Path(raw)
        text = read_text(path, missing="human scores file not found")
        lines = [ln for ln in text.splitlines() if ln.strip()]
        if not lines:
            raise InputError(path, None, "empty human scores file")
        words = lines[0].split()
        if "SYS" in words and "Z.SCR" in words:
            _read_wmt(path, [ln.split() for ln in lines], scores)
        else:
            delimiter = "\t" if "\t" in lines[0] else ","
            _read_table(path, list(csv.reader(lines, delimiter=delimiter)), scores)
    for system, per in scores.segments.items():
        if system not in scores.systems:
            scores.systems[system] = float(np.mean(list(per.values())))
            scores.notes.append(f"{system}: system score = mean of its {len(per)} segment scores")
    return scores


@dataclass
class AlignedHuman:
    """Human scores matched to the runs.

    Attributes:
        runs: run positions of the matched systems; ``names`` their display names.
        system: the human system score of each matched run.
        segments: ``(len(runs), n_segments)`` human segment scores in corpus order, NaN where none.
        runs_only / human_only: systems in one source but not the other (reported, never dropped silently).
        unmapped: human segment scores whose key names no segment of the runs.
    """

    runs: list[int]
    names: list[str]
    system: np.ndarray
    segments: np.ndarray | None
    runs_only: list[str]
    human_only: list[str]
    unmapped: int
    segment_key: str | None
    files: list[str]
    notes: list[str]


def _positions(rs: RunSet, key: str, scores: HumanScores) -> dict[str, int]:
    if key == "id":
        return {sid: k for k, sid in enumerate(rs.ids)}
    keys = {s for per in scores.segments.values() for s in per}
    bad = next((s for s in keys if not s.isdigit()), None)
    if bad is not None:
        raise InputError(scores.files[-1], None, f"segment {bad!r} is not a line number (--human-segments line)")
    return {s: int(s) - 1 for s in keys if 1 <= int(s) <= rs.n_segments}


def align_human(scores: HumanScores, rs: RunSet, *, segment_key: str | None = None) -> AlignedHuman:
    """Match human systems to runs by name (display name or system name) and segments to corpus positions.

    Args:
        segment_key: ``id`` or ``line`` (see SEGMENT_KEYS); None: ``id`` for CSV/TSV files, and
            for WMT DA segment files an error (their SIDs must be declared line numbers).

    Raises:
        InputError: fewer than 3 systems match, or no human segment score names a segment of the runs.
    """
    where = ", ".join(scores.files)
    if scores.segments and segment_key is None and scores.wmt_segments:
        raise InputError(where, None, WMT_SID_HINT)
    key = segment_key or "id"
    if key not in SEGMENT_KEYS:
        raise InputError(where, None, f"--human-segments must be one of {', '.join(SEGMENT_KEYS)}, got {key!r}")
    runs, names = [], []
    for i, (name, run) in enumerate(zip(rs.names, rs.runs, strict=True)):
        match = name if name in scores.systems else run.system if run.system in scores.systems else None
        if match is not None:
            runs.append(i)
            names.append(match)
    runs_only = [rs.names[i] for i in range(len(rs.runs)) if i not in runs]
    human_only = [s for s in scores.systems if s not in names]
    if len(runs) < 3:
        raise InputError(where, None, f"only {len(runs)} system(s) match the runs by name (need 3): runs "
                         f"{', '.join(rs.names)}; human scores {', '.join(scores.systems)}")
    segments, unmapped = None, 0
    if scores.segments:
        pos = _positions(rs, key, scores)
        segments = np.full((len(runs), rs.n_segments), np.nan)
        for row, name in enumerate(names):
            for seg, value in scores.segments.get(name, {}).items():
                if seg in pos:
                    segments[row, pos[seg]] = value
                else:
                    unmapped += 1
        if np.isnan(segments).all():
            raise InputError(where, None, f"no human segment score names a segment of the runs (--human-segments "
                             f"{key}: {'segment ids as in segments.jsonl' if key == 'id' else 'line numbers'})")
    return AlignedHuman(runs=runs, names=[rs.names[i] for i in runs],
                        system=np.array([scores.systems[n] for n in names]),
                        segments=segments, runs_only=runs_only, human_only=human_only, unmapped=unmapped,
                        segment_key=key if scores.segments else None, files=scores.files, notes=scores.notes)
