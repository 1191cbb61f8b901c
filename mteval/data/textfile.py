"""Strict line reading: UTF-8 with file:line errors, BOM and CRLF handled, split on ``\\n`` only."""
from __future__ import annotations

import logging
from pathlib import Path

from mteval.errors import InputError

log = logging.getLogger(__name__)

_BOM = b"\xef\xbb\xbf"


def read_lines(path: str | Path) -> list[tuple[int, str]]:
    """Return ``(line_number, text)`` pairs for every line of a UTF-8 file.

    Lines are split on ``\\n`` only (``str.splitlines`` would also split on U+2028, U+0085
    and form feeds and shift every later line). A final newline does not add an empty line.
    A UTF-8 BOM is dropped and CRLF endings become LF, each with a warning naming the file.

    Raises:
        InputError: the file is missing, or a line is not valid UTF-8 (names line and byte).
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(path, None, "file not found") from None
    except IsADirectoryError:
        raise InputError(path, None, "is a directory, expected a text file") from None
    if raw.startswith(_BOM):
        log.warning("%s: dropped a UTF-8 byte-order mark at the start of the file", path)
        raw = raw[len(_BOM) :]
    chunks = raw.split(b"\n")
    if chunks and chunks[-1] == b"":
        chunks.pop()
    out: list[tuple[int, str]] = []
    crlf = 0
    for number, chunk in enumerate(chunks, start=1):
        if chunk.endswith(b"\r"):
            chunk = chunk[:-1]
            crlf += 1
        try:
            text = chunk.decode("utf-8")
        except UnicodeDecodeError as err:
            raise InputError(
                path, number, f"not valid UTF-8 at byte {err.start} of the line ({chunk[err.start:err.start + 4]!r})"
            ) from None
        if "\r" in text:
            raise InputError(path, number, "contains a bare carriage return (\\r) inside the line")
        out.append((number, text))
    if crlf:
        log.warning("%s: %d line(s) had Windows CRLF endings; read as LF", path, crlf)
    return out


def read_segments(path: str | Path, *, allow_empty_lines: bool = False) -> list[str]:
    """Read a one-segment-per-line file.

    Args:
        path: the file.
        allow_empty_lines: hypotheses may be empty (scored as empty); sources and references may not.

    Raises:
        InputError: empty file, undecodable bytes, or an empty line where one is not allowed.
    """
    lines = read_lines(path)
    if not lines:
        raise InputError(path, None, "file is empty")
    if not allow_empty_lines:
        for number, text in lines:
            if not text.strip():
                raise InputError(path, number, "empty segment (every source and reference line needs text)")
    return [text for _, text in lines]


def check_same_length(files: dict[str, list[str]], reference_key: str) -> None:
    """Raise InputError naming the first file whose line count differs from ``reference_key``'s."""
    n = len(files[reference_key])
    for name, lines in files.items():
        if len(lines) != n:
            line = min(len(lines), n) + 1
            raise InputError(
                name, line, f"has {len(lines)} lines but {reference_key} has {n}; the files must be line-aligned"
            )
