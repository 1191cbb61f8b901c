"""A system whose outputs were computed elsewhere: one hypothesis per line, aligned with the sources."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mteval.data.provenance import file_digest
from mteval.data.textfile import read_segments
from mteval.errors import ConfigError, InputError
from mteval.systems.base import System
from mteval.types import Corpus, Translation


class FileSystem(System):
    """Read hypotheses from a UTF-8 text file, line ``i`` for source ``i``.

    Empty lines are legitimate (an empty translation) and are scored as empty, never dropped,
    so a line count that differs from the corpus is an error naming the file.

    Args:
        path: the hypothesis file.
        name: the system name in results (defaults to the file name).
        limit: read only the first ``limit`` lines, to match a dataset cut with ``dataset.load.limit``
            (every loader keeps the first N segments); None reads the whole file.
    """

    uses_model = False

    def __init__(self, *, path: str, name: str | None = None, limit: int | None = None):
        self.path = Path(path)
        self.name = name or self.path.name
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
            raise ConfigError(f"system.limit (from dataset.load.limit) must be a whole number of at least 1, "
                              f"got {limit!r}")
        self.limit = limit
        self._lines: list[str] | None = None

    def _read(self) -> list[str]:
        if self._lines is None:
            lines = read_segments(self.path, allow_empty_lines=True)
            self._lines = lines if self.limit is None else lines[: self.limit]
        return self._lines

    def preflight(self, corpus: Corpus) -> None:
        self._check_count(len(corpus))

    def _check_count(self, n_sources: int) -> None:
        lines = self._read()
        if len(lines) != n_sources:
            raise InputError(
                self.path, min(len(lines), n_sources) + 1,
                f"has {len(lines)} hypothesis lines but the dataset has {n_sources} segments",
            )

    def translate(self, sources: Sequence[str], *, src_lang: str, tgt_lang: str) -> Translation:
        self._check_count(len(sources))
        return Translation(list(self._read()))

    def fingerprint(self) -> dict[str, Any]:
        self._read()  # a missing, non-regular or oversized file is refused here, before its digest
        digest = file_digest(self.path).removeprefix("sha256:")
        return {"class": "FileSystem", "name": self.name, "path": str(self.path), "sha256": digest,
                "limit": self.limit}

