"""Each process's share of the CPU cores: mteval runs on one machine split the cores between them.

Two runs that each sized their thread pools to the whole machine slowed down ~16x (360 s each
against 22 s alone, issue 11): every OpenMP/MKL thread spins on a core another process needs.
A run registers itself in a per-user directory of lock files (the lock is released by the
kernel when the process ends, however it ends), counts the live runs, and uses
``cores // runs`` threads: joblib and submitit sweep jobs are such runs too.

Measured on the 2-core machine (tiny Marian, 1,200 WMT22 en-zh sentences, 4 beams, cache
chunks of one 32-sentence batch): translating took 15.9 s alone; two runs started together
took 442 s and 444 s each with whole-machine pools, and 30.1 s and 30.2 s with shared cores.
"""
from __future__ import annotations

import fcntl
import logging
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)

#: The environment variables thread pools read when they start (OpenMP, MKL, OpenBLAS, the
#: tokenizers' Rayon pool); a value the user exported wins.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "RAYON_NUM_THREADS")

_registration: object | None = None  # the open, locked file of this process (kept open until exit)
# Variables set by an mteval process (and inherited by its children) are not the user's choice.
_OURS = "MTEVAL_SIZED_THREADS"
_user_set = {name for name in THREAD_VARIABLES
             if name in os.environ and name not in os.environ.get(_OURS, "").split(",")}


def registry() -> Path:
    """The directory of live runs' lock files (per user, on this machine)."""
    return Path(os.environ.get("MTEVAL_RUNS_DIR") or Path(tempfile.gettempdir()) / f"mteval-runs-{os.getuid()}")


def affinity_cores() -> int:
    """CPU cores this process may run on (the affinity mask, not the machine's core count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def register() -> None:
    """Count this process as a live run until it exits or :func:`running` ends (idempotent)."""
    global _registration
    if _registration is not None:
        return
    folder = registry()
    folder.mkdir(parents=True, exist_ok=True)
    handle = open(folder / str(os.getpid()), "w")  # noqa: SIM115 - held open for the process's life
    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    _registration = handle


@contextmanager
def running() -> Iterator[None]:
    """Count this process as a live run inside the block (a sweep's jobs in one process: once each)."""
    global _registration
    register()
    try:
        yield
    finally:
        handle, _registration = _registration, None
        if handle is not None:
            Path(handle.name).unlink(missing_ok=True)
            handle.close()


def live_runs() -> int:
    """Runs holding their lock now (this one included); stale files of ended runs are removed."""
    folder = registry()
    count = 0
    for path in folder.glob("[0-9]*") if folder.is_dir() else []:
        try:
            with open(path) as probe:
                fcntl.flock(probe, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            count += 1  # its process holds the lock: alive
            continue
        except OSError:  # removed meanwhile by another run's sweep of stale files
            continue
        path.unlink(missing_ok=True)  # nobody holds it: the run ended (or was killed)
    return max(count, 1)


def core_share() -> int:
    """This process's cores: the affinity mask shared equally among the live runs (at least 1)."""
    return max(1, affinity_cores() // live_runs())


def size_thread_pools() -> int:
    """Size torch's pool (if torch is loaded) and the pools started later to :func:`core_share`.

    Called when a run starts and again before each chunk and metric, so a run adapts when
    another starts or ends. Returns the thread count.
    """
    threads = core_share()
    ours = [name for name in THREAD_VARIABLES if name not in _user_set]
    for name in ours:
        os.environ[name] = str(threads)
    os.environ[_OURS] = ",".join(ours)
    torch = sys.modules.get("torch")
    if torch is not None and "OMP_NUM_THREADS" not in _user_set and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
        log.debug("torch threads: %d (%d cores, %d live runs)", threads, affinity_cores(), live_runs())
    return threads
