"""Output files written whole or not at all, never into a FIFO, a device or through a dangling link; JSON digests.

Every file mteval writes (run directories, the leaderboard, baselines, compare and gate outputs,
caches of fetched records) goes through :func:`write_atomic`: the content is written to a new
temporary file beside the target (created exclusively, so no other file is opened by mistake)
and renamed over it, so a killed process or a full disk never leaves half a file.

What an existing path may be (issue 23, item 7: ``--out /dev/full`` replaced the device node):

- nothing: a new regular file is created; a regular file: replaced atomically;
- a symlink whose final target is a regular file: written through (the link is kept and its
  target replaced, as editors and ``cp`` do), so a baseline kept as ``baseline.json -> v3.json``
  is updated where it lives;
- a symlink that dangles: refused, since writing would create a file wherever the link points;
- anything else (a FIFO, a socket, a device such as ``/dev/full``, a directory): refused, since a
  rename would replace the node itself and a plain write could block forever on a FIFO.

The check and the rename are two steps: a file swapped for a FIFO between them is replaced, which
is the most a path-based writer can promise.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import secrets
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mteval.errors import UnsafeOutputError

_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def output_target(path: str | Path) -> Path:
    """The regular file a write to ``path`` replaces: ``path`` itself, or the file its symlinks lead to.

    Raises:
        UnsafeOutputError: ``path`` is (or leads to) something other than a regular file, or a dangling link.
        OSError: ``path`` cannot be examined (permission denied on a parent, a symlink loop).
    """
    path = Path(path)
    try:
        st = os.stat(path)  # follows links
    except (FileNotFoundError, NotADirectoryError):  # nothing there yet (the write reports a parent that is a file)
        if path.is_symlink():
            raise UnsafeOutputError(path, f"is a symlink to {os.readlink(path)}, which does not exist; refusing to "
                                          "create a file through it (remove the link or give another path)") from None
        return path
    if not stat.S_ISREG(st.st_mode):
        kind = next((name for test, name in _KINDS if test(st.st_mode)), "a special file")
        via = f" (through the symlink to {os.path.realpath(path)})" if path.is_symlink() else ""
        raise UnsafeOutputError(path, f"is {kind}{via}, not a regular file; refusing to replace it (give a file path)")
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def write_atomic(path: str | Path, content: str | bytes | Callable[[Path], None]) -> Path:
    """Write ``content`` (text as UTF-8, bytes, or a function that writes a given path) to ``path`` atomically.

    Returns:
        The file written (the target of a symlink, see the module docstring).

    Raises:
        UnsafeOutputError: ``path`` is not a regular file (nor a link to one).
        OSError: the write failed (full disk, read-only directory); no temporary file is left.
    """
    target = output_target(path)
    # Unique per process and call, and created exclusively: two writers never share a temp file and
    # a planted symlink at the temp name is never followed.
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o666))
        if isinstance(content, str):
            tmp.write_text(content, encoding="utf-8")
        elif isinstance(content, bytes):
            tmp.write_bytes(content)
        else:
            content(tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)  # a full disk must not leave the temp file behind
    return target


def append_text(path: str | Path, text: str) -> None:
    """Append ``text`` to a regular file (created if missing), refusing what :func:`output_target` refuses.

    For files that collect every writer's output (GitHub's step summary), where replacing would lose them.
    """
    target = output_target(path)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0), 0o666)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)


@contextmanager
def locked(path: str | Path) -> Iterator[None]:
    """Hold an exclusive lock on ``<path>.lock`` (POSIX ``flock``; released if the process dies)."""
    import fcntl  # POSIX only: imported where a lock is taken

    path = Path(path)
    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _default(obj: Any) -> Any:
    """JSON for the values results hold besides JSON types: dataclasses and paths."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def json_text(obj: Any, *, indent: int | None = 2) -> str:
    """``obj`` as JSON text (UTF-8 kept, dataclasses and paths converted), ending with a newline."""
    return json.dumps(obj, ensure_ascii=False, indent=indent, default=_default) + "\n"


def write_json(path: str | Path, obj: Any, *, indent: int | None = 2) -> Path:
    """Write ``obj`` as JSON atomically (:func:`write_atomic`), so a killed run never leaves half a file."""
    return write_atomic(path, json_text(obj, indent=indent))


def digest(obj: Any, n: int | None = None) -> str:
    """sha256 hex of ``obj`` as canonical JSON (sorted keys, no spaces, UTF-8): stable across runs and
    machines; ``n`` keeps that many leading hex digits (12 names a leaderboard row, 16 a baseline's text)."""
    data = json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_default)
    full = hashlib.sha256(data.encode("utf-8")).hexdigest()
    return full if n is None else full[:n]
