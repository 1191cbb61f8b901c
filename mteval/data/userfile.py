"""Files a user names, read safely: a regular file (never a device, FIFO or socket) and a stated size bound."""
from __future__ import annotations

import os
import stat
from pathlib import Path

from mteval.errors import ConfigError, InputError

#: The bound on any one file a user names (MB), raised with this environment variable. A WMT test set
#: is about 1 MB and a run's segments.jsonl a few; the bound only stops a wrong path (a disk image,
#: ``/dev/zero``, a file still growing) from filling memory (issue 23: ``system.path=/dev/zero`` read 24 GB).
MAX_MB_VARIABLE = "MTEVAL_MAX_FILE_MB"
DEFAULT_MAX_MB = 1024


def max_file_bytes() -> int:
    """The bound on a user's file in bytes: ``$MTEVAL_MAX_FILE_MB`` (a positive number) or 1024 MB."""
    raw = os.environ.get(MAX_MB_VARIABLE, "").strip()
    try:
        mb = float(raw) if raw else DEFAULT_MAX_MB
    except ValueError:
        mb = -1
    if not mb > 0 or mb != mb or mb == float("inf"):
        raise ConfigError(f"{MAX_MB_VARIABLE}={raw!r}: not a positive number of megabytes")
    return int(mb * 1_000_000)


def _mb(n: int) -> str:
    return f"{n / 1e6:.4g} MB"


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def check_regular(path: str | Path, *, missing: str = "file not found") -> os.stat_result:
    """Stat a file a user named: it must exist and be a regular file (a symlink to one is fine).

    Checked before the file is opened, since opening a FIFO blocks until someone writes to it.

    Raises:
        InputError: missing, a directory, a device, a FIFO or a socket, or not readable.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise InputError(path, None, missing) from None
    except PermissionError:
        raise InputError(path, None, "permission denied") from None
    except OSError as err:
        raise InputError(path, None, f"cannot read: {err.strerror or err}") from None
    if not stat.S_ISREG(st.st_mode):
        raise InputError(path, None, f"is {_kind(st.st_mode)}, expected a regular file")
    return st


def _too_big(limit: int) -> str:
    return f"over the {_mb(limit)} bound on input files; raise it with {MAX_MB_VARIABLE}=<MB> if the file is right"


def check_bounded(path: str | Path, *, missing: str = "file not found") -> os.stat_result:
    """:func:`check_regular`, and the file is within :func:`max_file_bytes` (for files another library reads).

    Raises:
        InputError: see :func:`check_regular`; or the file is over the bound (naming ``MTEVAL_MAX_FILE_MB``).
    """
    st = check_regular(path, missing=missing)
    if st.st_size > max_file_bytes():
        raise InputError(path, None, f"is {_mb(st.st_size)}, {_too_big(max_file_bytes())}")
    return st


def read_bounded(path: str | Path, *, missing: str = "file not found") -> bytes:
    """The bytes of a regular file a user named, refused above :func:`max_file_bytes`.

    The read itself is bounded too (``/proc`` files report size 0, and a file may grow while read).

    Raises:
        InputError: see :func:`check_regular`; or the file is over the bound (the message names it and
            ``MTEVAL_MAX_FILE_MB``).
    """
    limit = max_file_bytes()
    check_bounded(path, missing=missing)
    try:
        # O_NONBLOCK: should the path have become a FIFO since the check, opening it does not wait.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except PermissionError:
        raise InputError(path, None, "permission denied") from None
    except OSError as err:
        raise InputError(path, None, f"cannot read: {err.strerror or err}") from None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise InputError(path, None, "is no longer a regular file")
        try:
            data = f.read(limit + 1)
        except OSError as err:
            raise InputError(path, None, f"cannot read: {err.strerror or err}") from None
    if len(data) > limit:
        raise InputError(path, None, f"grew past {_mb(limit)} while read, {_too_big(limit)}")
    return data


def read_text(path: str | Path, *, missing: str = "file not found") -> str:
    """A bounded regular file (:func:`read_bounded`) decoded as UTF-8 (a leading BOM dropped).

    Raises:
        InputError: as :func:`read_bounded`, or bytes that are not UTF-8 (naming the line).
    """
    raw = read_bounded(path, missing=missing)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        raise InputError(path, line, f"not UTF-8 text ({err.reason} at byte {err.start})") from None
