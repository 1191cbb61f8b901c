"""Sweeps that keep going: a failed job leaves a one-line error file in its directory, the others run,
and the sweep ends with the list of failures (the CLI exits 2)."""
from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback

log = logging.getLogger("mteval")

#: Written into a failed job's directory: the job's overrides, a tab, the one-line error.
ERROR_FILE = "mteval-error.txt"

#: Failures of the sweep this process launched, filled by :class:`SweepFailures` when it ends.
FAILED: list[str] = []


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
    job = " ".join(hc.overrides.task) or f"job {hc.job.num}"
    log.error("sweep job %s (%s) failed: %s", hc.job.num, job, message)
    out = Path(hc.runtime.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / ERROR_FILE).write_text(f"#{hc.job.num} {job}\t{message}\n", encoding="utf-8")


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

    def on_multirun_end(self, config: Any, **kwargs: Any) -> None:  # noqa: ARG002 - Hydra's signature
        sweep_dir = Path(str(config.hydra.sweep.dir))
        found = sorted(p for p in sweep_dir.glob(f"*/{ERROR_FILE}") if p.stat().st_mtime >= self.started)
        for path in found:
            label, _, message = path.read_text(encoding="utf-8").strip().partition("\t")
            FAILED.append(f"{label} ({path.parent}): {message}")
