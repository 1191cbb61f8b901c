"""iter_lines (issue 21) reads line by line what read_lines reads whole: the same lines, the same refusals."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mteval.data.textfile import count_segments, iter_lines, read_lines
from mteval.errors import InputError

PIECES = ["a", "猫", " ", "\n", "\r\n", "\r", "\u2028", "\x00", "\ufeff", "\xff", "\xef\xbb\xbf", "\xfe", "é"]


def outcome(fn, path):
    try:
        return list(fn(path))
    except InputError as err:
        return str(err)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=12), st.booleans())
def test_iter_lines_reads_and_refuses_exactly_as_read_lines(tmp_path_factory, pieces, bom):
    """Bytes mixing line endings, BOMs, control characters and invalid UTF-8 ("\\xff" is written as the byte)."""
    raw = (b"\xef\xbb\xbf" if bom else b"") + b"".join(p.encode("latin-1") if p in {"\xff", "\xfe", "\xef\xbb\xbf"}
                                                       else p.encode() for p in pieces)
    path = tmp_path_factory.mktemp("lines") / "f.txt"
    path.write_bytes(raw)
    assert outcome(iter_lines, path) == outcome(read_lines, path)


def test_count_segments_refuses_an_empty_file_and_an_empty_reference_line(tmp_path):
    (tmp_path / "empty").write_bytes(b"")
    (tmp_path / "gap").write_text("one\n\nthree\n", encoding="utf-8")
    with pytest.raises(InputError, match="file is empty"):
        count_segments(tmp_path / "empty")
    with pytest.raises(InputError, match="gap:2: empty segment"):
        count_segments(tmp_path / "gap")
    assert count_segments(tmp_path / "gap", allow_empty_lines=True) == 3
