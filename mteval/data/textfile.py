"""Strict line reading: UTF-8 with file:line errors, BOM and CRLF handled, split on ``\\n`` only."""
from __future__ import annotations

import logging
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

from mteval.data.userfile import check_bounded, read_bounded
from mteval.errors import InputError

log = logging.getLogger(__name__)

_BOM = b"\xef\xbb\xbf"
# Byte-order marks of encodings that are not UTF-8: a file saved as UTF-16 or UTF-32 by an editor.
_OTHER_BOMS = ((b"\x00\x00\xfe\xff", "UTF-32"), (b"\xff\xfe\x00\x00", "UTF-32"),
               (b"\xfe\xff", "UTF-16"), (b"\xff\xfe", "UTF-16"))
# Characters that str.splitlines() and many tools treat as a line break (so they would shift
# every later line there), other control characters (binary data), and a byte-order mark after
# the start of the file (files concatenated with `cat`). Tab is allowed.
_LINE_BREAKS = {"\x0b": "VERTICAL TAB", "\x0c": "FORM FEED", "\x1c": "FILE SEPARATOR", "\x1d": "GROUP SEPARATOR",
                "\x1e": "RECORD SEPARATOR", "\x85": "NEXT LINE (NEL)", "\u2028": "LINE SEPARATOR",
                "\u2029": "PARAGRAPH SEPARATOR"}
_BAD_CHARS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff]")


def bad_char_message(text: str) -> str | None:
    """Describe the first character of ``text`` that must not be in a segment, or None."""
    m = _BAD_CHARS.search(text)
    if m is None:
        return None
    ch, column = m.group(), m.start() + 1
    if ch in _LINE_BREAKS:
        return (f"contains U+{ord(ch):04X} {_LINE_BREAKS[ch]} at column {column}, which other tools read as a "
                "line break (shifting every later line); replace it with a space")
    if ch == "\ufeff":
        return (f"contains a byte-order mark (U+FEFF) at column {column}, after the start of the file "
                "(were files concatenated?); remove it")
    return f"contains the control character U+{ord(ch):04X} at column {column} (is this a binary file?)"


def field_problem(text: str) -> str | None:
    """What makes ``text`` unfit to be one segment of a structured file (JSONL, a Hugging Face dataset), or None:
    a line break or carriage return inside it, or what :func:`bad_char_message` refuses in a text file."""
    if "\n" in text or "\r" in text:
        return "contains a line break; one segment must be one line"
    return bad_char_message(text)


def read_lines(path: str | Path) -> list[tuple[int, str]]:
    """Return ``(line_number, text)`` pairs for every line of a UTF-8 file.

    Lines are split on ``\\n`` only (``str.splitlines`` would also split on U+2028, U+0085
    and form feeds and shift every later line). A final newline does not add an empty line.
    A UTF-8 BOM at the start is dropped and CRLF endings become LF, each with a warning naming
    the file and line.

    Raises:
        InputError: the file is missing, not a regular file, over the size bound, or not UTF-8 (UTF-16/32, or undecodable bytes, naming the
            line and byte), or a line holds a bare carriage return, a character other tools read as
            a line break (U+2028, NEL, form feed...), a control character or a byte-order mark.
    """
    path = Path(path)
    raw = _drop_bom(path, read_bounded(path))
    chunks = raw.split(b"\n")
    if chunks and chunks[-1] == b"":
        chunks.pop()
    out: list[tuple[int, str]] = []
    crlf: list[int] = []
    for number, chunk in enumerate(chunks, start=1):
        out.append((number, _line_text(path, number, chunk, crlf)))
    _warn_crlf(path, crlf)
    return out


def iter_lines(path: str | Path) -> Iterator[tuple[int, str]]:
    """:func:`read_lines` one line at a time, for files of millions of lines: the same checks and
    messages, and the memory of one line (issue 21: a 1M-line corpus is 274 MB of text).

    Raises:
        InputError: as :func:`read_lines`, when the offending line is reached.
    """
    path = Path(path)
    check_bounded(path)
    try:
        # O_NONBLOCK: should the path have become a FIFO since the check, opening it does not wait.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as err:
        raise InputError(path, None, f"cannot read: {err.strerror or err}") from None
    crlf: list[int] = []
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise InputError(path, None, "is no longer a regular file")
        for number, chunk in enumerate(f, start=1):  # a binary file's lines end at b"\n" only
            if number == 1:
                chunk = _drop_bom(path, chunk)
                if not chunk:  # a byte-order mark and nothing else: an empty file, as read_lines reads it
                    break
            yield number, _line_text(path, number, chunk[:-1] if chunk.endswith(b"\n") else chunk, crlf)
    _warn_crlf(path, crlf)


def _drop_bom(path: Path, raw: bytes) -> bytes:
    """``raw`` (the file's start) without a UTF-8 byte-order mark (warned about); UTF-16/32 refused."""
    for bom, encoding in _OTHER_BOMS:
        if raw.startswith(bom):
            raise InputError(path, 1, f"is {encoding} (byte-order mark {bom.hex(' ')}); save it as UTF-8")
    if raw.startswith(_BOM):
        log.warning("%s:1: dropped a UTF-8 byte-order mark at the start of the file", path)
        raw = raw[len(_BOM) :]
    return raw


def _line_text(path: Path, number: int, chunk: bytes, crlf: list[int]) -> str:
    """One line's bytes (without its ``\\n``) decoded and checked; a CRLF ending is dropped and noted in ``crlf``."""
    if chunk.endswith(b"\r"):
        chunk = chunk[:-1]
        crlf.append(number)
    try:
        text = chunk.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InputError(
            path, number, f"not valid UTF-8 at byte {err.start} of the line ({chunk[err.start:err.start + 4]!r})"
        ) from None
    if "\r" in text:
        column = text.index("\r") + 1
        raise InputError(path, number, f"contains a bare carriage return (\\r) at column {column}, "
                                       "an old Mac line break inside the line")
    problem = bad_char_message(text)
    if problem is not None:
        raise InputError(path, number, problem)
    return text


def _warn_crlf(path: Path, crlf: list[int]) -> None:
    if crlf:
        log.warning("%s:%d: %d line(s) had Windows CRLF endings (the first here); read as LF", path, crlf[0], len(crlf))


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
            _check_not_empty(path, number, text)
    return [text for _, text in lines]


def count_segments(path: str | Path, *, allow_empty_lines: bool = False) -> int:
    """:func:`read_segments`' checks one line at a time, keeping nothing: the number of segments.

    Raises:
        InputError: as :func:`read_segments`.
    """
    n = 0
    for n, text in iter_lines(path):
        if not allow_empty_lines:
            _check_not_empty(path, n, text)
    if not n:
        raise InputError(path, None, "file is empty")
    return n


def _check_not_empty(path: str | Path, number: int, text: str) -> None:
    if not text.strip():
        raise InputError(path, number, "empty segment (every source and reference line needs text)")


def check_same_length(files: dict[str, list[str]], reference_key: str) -> None:
    """Raise InputError naming the first file whose line count differs from ``reference_key``'s."""
    n = len(files[reference_key])
    for name, lines in files.items():
        if len(lines) != n:
            line = min(len(lines), n) + 1
            raise InputError(
                name, line, f"has {len(lines)} lines but {reference_key} has {n}; the files must be line-aligned"
            )
