"""A closed stdout (``mteval ... | head -c0``) ends every command quietly: one line on stderr, exit 2, no traceback.

Python reports a write to a closed pipe as ``BrokenPipeError`` from ``print``, as a "Logging error"
traceback from each log record a handler writes to it, and once more when the interpreter flushes
stdout at exit (issue 23: a run printed three tracebacks). Every entry point is wrapped in
:func:`quiet_on_closed_stdout`: the work goes on (a run still writes every file), stdout is pointed
at ``/dev/null`` so nothing fails again, and the command ends with exit 2, since what it had to
print was not delivered (as ``mteval-gate`` documents: 1 is only ever a regression).
"""
from __future__ import annotations

import errno
import functools
import logging
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

_closed = False
_handle_error = logging.Handler.handleError


def is_closed_pipe(err: BaseException | None) -> bool:
    """A write to a pipe whose reader has gone (``BrokenPipeError``, or EPIPE from a lower layer)."""
    return isinstance(err, BrokenPipeError) or (isinstance(err, OSError) and err.errno == errno.EPIPE)


def stdout_closed() -> None:
    """Record that stdout's reader has gone, and point stdout at /dev/null so later writes succeed."""
    global _closed
    _closed = True
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no real stdout (an embedding host): nothing to repoint
        pass


def _handle_logging_error(handler: logging.Handler, record: logging.LogRecord) -> None:
    """A log handler that hit the closed pipe: note it instead of printing a traceback per record."""
    if is_closed_pipe(sys.exc_info()[1]):
        stdout_closed()
        return
    _handle_error(handler, record)


def _report(prog: str) -> None:
    try:
        print(f"{prog}: error: stdout was closed before all output was written (broken pipe); "
              "read the exit status and the files the command wrote", file=sys.stderr, flush=True)
    except OSError:  # stderr went with it (2>&1 | head): the exit status says it
        pass


def quiet_on_closed_stdout(prog: str) -> Callable[[F], F]:
    """Wrap an entry point: a closed stdout anywhere in it ends with one line on stderr and exit 2.

    A command that failed for another reason keeps its own (non-zero) status.
    """
    def decorate(main: F) -> F:
        @functools.wraps(main)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            logging.Handler.handleError = _handle_logging_error  # type: ignore[method-assign]
            try:
                result = main(*args, **kwargs)
            except BrokenPipeError:
                stdout_closed()
                result = None
            except SystemExit as stop:
                if not _closed or stop.code not in (0, None):
                    raise
                result = None
            if _closed:
                _report(prog)
                sys.exit(2)
            return result
        return wrapper  # type: ignore[return-value]
    return decorate


class StderrHandler(logging.StreamHandler):
    """A log handler that writes to whatever ``sys.stderr`` is when a record is emitted, so a command run
    twice in one process (tests, notebooks) never keeps writing to the stream of the first run."""

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        """The stream is always the current ``sys.stderr``."""


def log_to_stderr(level: int, fmt: str) -> None:
    """``logging.basicConfig`` for an entry point, through :class:`StderrHandler`."""
    logging.basicConfig(level=level, format=fmt, handlers=[StderrHandler()])

