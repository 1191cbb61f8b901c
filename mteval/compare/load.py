"""Load finished runs (run dirs or sweep dirs) and refuse sets of runs that cannot be compared."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from mteval.errors import IncomparableError, InputError
from mteval.results.io import LoadedRun, load_run
from mteval.types import Direction


def _natural_key(path: Path) -> list:
    """Sort ``10_x`` after ``9_x`` (Hydra names sweep jobs ``<num>_<system>``)."""
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", path.name)]


def expand_run_dirs(paths: list[str | Path]) -> list[Path]:
    """Turn run dirs and sweep dirs into run dirs: a directory without ``scores.json`` stands for
    the finished runs directly inside it (a Hydra multirun dir).

    Raises:
        InputError: a path is missing, or is a directory holding no finished run.
    """
    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if (path / "scores.json").is_file():
            out.append(path)
        elif path.is_dir():
            runs = sorted((p for p in path.iterdir() if (p / "scores.json").is_file()), key=_natural_key)
            if not runs:
                raise InputError(path, None, "no finished run here (no scores.json in it or its subdirectories)")
            out.extend(runs)
        else:
            raise InputError(path, None, "not found")
    seen: set[Path] = set()
    return [p for p in out if not (p.resolve() in seen or seen.add(p.resolve()))]


@dataclass
class RunSet:
    """Runs on the same segments, with unique display names, ready to compare.

    Attributes:
        runs: the loaded runs, in input order.
        names: one unique name per run (the system name, with the run dir when two runs share it).
    """

    runs: list[LoadedRun]
    names: list[str]

    @property
    def first(self) -> LoadedRun:
        return self.runs[0]

    @property
    def dataset(self) -> str:
        return self.first.dataset

    @property
    def direction(self) -> str:
        return self.first.scores["direction"]

    @property
    def tgt_lang(self) -> str:
        return Direction.parse(self.direction).tgt

    @property
    def n_segments(self) -> int:
        return len(self.first.segments)

    @cached_property
    def ids(self) -> list[str]:
        return [row["id"] for row in self.first.segments]

    @cached_property
    def srcs(self) -> list[str]:
        return [row["src"] for row in self.first.segments]

    @cached_property
    def refs(self) -> list[list[str]]:
        return [list(row.get("refs") or []) for row in self.first.segments]

    @cached_property
    def domains(self) -> list[str | None]:
        return [row.get("domain") for row in self.first.segments]

    @cached_property
    def documents(self) -> list[str | None]:
        """Document ids (runs written before they were stored have none: no document view)."""
        return [row.get("doc_id") for row in self.first.segments]

    @cached_property
    def _hyps(self) -> list[list[str]]:
        return [[row["hyp"] for row in run.segments] for run in self.runs]

    def hyps(self, i: int) -> list[str]:
        """Run ``i``'s hypotheses, in segment order."""
        return self._hyps[i]

    def index(self, name: str) -> int:
        """The position of a system, by display name or system name.

        Raises:
            IncomparableError: no run has that name.
        """
        for i, (n, run) in enumerate(zip(self.names, self.runs, strict=True)):
            if name in (n, run.system):
                return i
        raise IncomparableError(f"baseline {name!r} is not among the runs: {', '.join(self.names)}")


def unique_names(runs: list[LoadedRun]) -> list[str]:
    """System names, made unique with the run dir name where two runs share one (a sweep over beams)."""
    counts: dict[str, int] = {}
    for run in runs:
        counts[run.system] = counts.get(run.system, 0) + 1
    return [run.system if counts[run.system] == 1 else f"{run.system}@{run.path.name}" for run in runs]


def check_same_segments(runs: list[LoadedRun]) -> None:
    """Refuse runs on different datasets, directions, segment ids, sources or references.

    Raises:
        IncomparableError: naming the two runs and the first difference.
    """
    first = runs[0]
    for run in runs[1:]:
        where = f"{first.path} and {run.path}"
        for key in ("dataset", "direction"):
            if run.scores.get(key) != first.scores.get(key):
                raise IncomparableError(f"{where} are on different {key}s: "
                                        f"{first.scores.get(key)!r} vs {run.scores.get(key)!r}")
        if len(run.segments) != len(first.segments):
            raise IncomparableError(f"{where} have {len(first.segments)} and {len(run.segments)} segments")
        for k, (a, b) in enumerate(zip(first.segments, run.segments, strict=True)):
            for key in ("id", "src", "refs"):
                if a.get(key) != b.get(key):
                    raise IncomparableError(f"{where} differ in segment {k + 1} ({key}): "
                                            f"{str(a.get(key))[:60]!r} vs {str(b.get(key))[:60]!r}")


def select_metrics(runs: list[LoadedRun], requested: list[str] | None) -> list[str]:
    """The metrics to compare: those requested, or every metric all runs have, in the first run's order.

    Raises:
        IncomparableError: a requested metric is missing from a run, or two runs scored a metric
            with different signatures (different tokenizer, model, normalisation or version).
    """
    if requested:
        names = list(dict.fromkeys(requested))
        for run in runs:
            missing = [m for m in names if m not in run.scores["metrics"]]
            if missing:
                raise IncomparableError(f"{run.path} has no {', '.join(missing)} score "
                                        f"(it has: {', '.join(run.scores['metrics']) or 'none'})")
    else:
        names = [m for m in runs[0].scores["metrics"] if all(m in r.scores["metrics"] for r in runs)]
        if not names:
            raise IncomparableError("the runs have no metric in common")
    for name in names:
        first = runs[0].signature(name)
        for run in runs[1:]:
            if run.signature(name) != first:
                raise IncomparableError(
                    f"{name} was scored differently and cannot be compared:\n"
                    f"  {runs[0].path}: {first}\n  {run.path}: {run.signature(name)}\n"
                    f"re-score the runs with the same metric settings, or leave {name} out with --metrics")
    return names


def load_runset(paths: list[str | Path]) -> RunSet:
    """Load every run under ``paths`` and check they can be compared.

    Raises:
        InputError: a path holds no finished run.
        IncomparableError: fewer than two runs, or runs on different segments.
    """
    runs = [load_run(p) for p in expand_run_dirs(paths)]
    if len(runs) < 2:
        raise IncomparableError(f"need at least two runs to compare, found {len(runs)}")
    check_same_segments(runs)
    return RunSet(runs, unique_names(runs))
