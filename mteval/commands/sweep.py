"""Sweeps that keep going: a failed job leaves its one-line error in its directory, the others run,
and the sweep ends with one line per distinct cause of failure (the CLI exits 2)."""
from __future__ import annotations

import json
import logging
import re
import time
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback

from mteval.files import write_json

log = logging.getLogger("mteval")

#: Written into a failed job's directory: JSON with the job's number, overrides and one-line error.
ERROR_FILE = "mteval-error.json"

#: What marks an override as swept: a list (``a,b``) or a sweep function (``range(...)``, ...).
_SWEPT = re.compile(r",|^(range|choice|interval|glob|tag|shuffle|sort)\(")

#: Failures of the sweep this process launched, filled by :class:`SweepFailures` when it ends.
FAILED: list[str] = []
#: Causes already logged in full by a job of this process, with the first job that had them.
_SEEN: dict[str, int] = {}


def in_sweep() -> bool:
    """True inside a job of a ``-m`` sweep."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN


def clear_job_error() -> None:
    """Remove an error file a previous sweep left in this job's directory (a rerun that now works)."""
    from hydra.core.hydra_config import HydraConfig

    (Path(HydraConfig.get().runtime.output_dir) / ERROR_FILE).unlink(missing_ok=True)


def record_job_error(message: str) -> None:
    """Log the failure and leave it in the job's directory for the parent to report."""
    from hydra.core.hydra_config import HydraConfig

    hc = HydraConfig.get()
    overrides = list(hc.overrides.task)
    first = _SEEN.setdefault(message, hc.job.num)
    if first == hc.job.num:
        log.error("sweep job %s (%s) failed: %s", hc.job.num, " ".join(overrides), message)
    else:  # 13 jobs failing the same way once printed the same line 13 times here (issue 19)
        log.error("sweep job %s failed: the same cause as job %s", hc.job.num, first)
    out = Path(hc.runtime.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    record = {"num": hc.job.num, "overrides": overrides, "message": message}
    write_json(out / ERROR_FILE, record, indent=None)


class SweepFailures(Callback):
    """Collects the error files of this sweep's jobs when the sweep ends (in the launching process).

    Only files written after the sweep started count, so an old sweep directory reused with a
    fixed ``hydra.sweep.dir`` does not report stale failures.
    """

    def __init__(self) -> None:
        self.started = 0.0

    def on_multirun_start(self, config: Any, **kwargs: Any) -> None:  # noqa: ARG002 - Hydra's signature
        self.started = time.time() - 1  # file times may be rounded to the second
        FAILED.clear()
        _SEEN.clear()

    def on_multirun_end(self, config: Any, **kwargs: Any) -> None:  # noqa: ARG002 - Hydra's signature
        sweep_dir = Path(str(config.hydra.sweep.dir))
        # The job's label: only the settings the sweep varies (``dataset.load.limit=1,0,2``).
        swept = {o.split("=", 1)[0] for o in config.hydra.overrides.task if _SWEPT.search(o.split("=", 1)[-1])}
        swept |= set(config.hydra.sweeper.get("params") or {})  # sweeps an experiment config declares
        records = []
        for path in sweep_dir.glob(f"*/{ERROR_FILE}"):
            if path.stat().st_mtime >= self.started:
                records.append((json.loads(path.read_text(encoding="utf-8")), path.parent))
        # Every job of this sweep wrote its .hydra/ folder when it started, failed or not.
        n_jobs = sum(1 for p in sweep_dir.glob("*/.hydra/overrides.yaml") if p.stat().st_mtime >= self.started)
        FAILED.extend(group_failures(sorted(records, key=lambda r: r[0]["num"]), swept, max(n_jobs, len(records))))


def group_failures(records: list[tuple[dict[str, Any], Path]], swept: set[str], n_jobs: int) -> list[str]:
    """One line per distinct cause: how many of the sweep's jobs it failed, which, and the cause.

    A job is named by the settings the sweep varies (``#1 dataset.load.limit=0``); where one cause failed
    several jobs, by their numbers, and the error file each left names its settings.
    """
    by_cause: dict[str, list[tuple[dict[str, Any], Path]]] = {}
    for record, job_dir in records:
        by_cause.setdefault(record["message"], []).append((record, job_dir))
    lines = []
    for cause, jobs in by_cause.items():
        if len(jobs) == 1:
            (record, job_dir), = jobs
            label = " ".join(o for o in record["overrides"] if o.split("=", 1)[0] in swept)
            which = " ".join(filter(None, (f"job #{record['num']}", label, f"({job_dir})")))
        else:
            numbers = ", ".join(f"#{r['num']}" for r, _ in jobs)
            which = f"jobs {numbers} (each left {ERROR_FILE} in its directory)"
        lines.append(f"{len(jobs)} of {n_jobs} sweep jobs failed: {cause}; {which}")
    return lines
