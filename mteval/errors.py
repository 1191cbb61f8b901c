"""Errors the user can act on: each carries one readable line; the CLI prints it and exits 2."""
from __future__ import annotations


class MtevalError(Exception):
    """Base for errors that end a run with a clear message and exit status 2, without a traceback."""

    exit_code = 2


class InputError(MtevalError):
    """Bad input data, reported with the file and (1-based) line."""

    def __init__(self, path: object, line: int | None, message: str):
        self.path = str(path)
        self.line = line
        self.message = message
        where = self.path if line is None else f"{self.path}:{line}"
        super().__init__(f"{where}: {message}")


class ModelUnavailableError(MtevalError):
    """A model could not be loaded (not cached offline, wrong id, gated)."""


class ConfigError(MtevalError):
    """A configuration value is wrong or inconsistent."""


class IncomparableError(MtevalError):
    """Two runs cannot be compared (different signatures, datasets or segment ids)."""


class DataUnavailableError(MtevalError):
    """A test set is not in its local cache and cannot be downloaded (offline, no network, gated)."""


class OutputError(MtevalError):
    """A result could not be written (read-only path, full disk, closed pipe); nothing finished is lost."""


class UnsafeOutputError(OutputError):
    """An output path is not a regular file (a FIFO, a device, a directory) or is a dangling symlink: not replaced.

    Attributes:
        path: the path as given. reason: what it is and what to do, for messages that name the path their own way.
    """

    def __init__(self, path: object, reason: str):
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class CacheError(MtevalError):
    """The cache failed after it was opened (a corrupt page, a full disk); committed entries are kept."""
