"""Content-addressed SQLite cache for translations and metric results (embedded; no server)."""
from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS translation (
    system TEXT NOT NULL, source TEXT NOT NULL, hypothesis TEXT NOT NULL, created REAL NOT NULL,
    PRIMARY KEY (system, source));
CREATE TABLE IF NOT EXISTS metric (
    key TEXT PRIMARY KEY, result TEXT NOT NULL, created REAL NOT NULL);
"""


def digest(obj: Any) -> str:
    """sha256 of a JSON-serialisable value with sorted keys (stable across runs and machines)."""
    data = json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return hashlib.sha256(data).hexdigest()


class Cache:
    """Two tables: translations keyed by (system fingerprint, source hash) and metric results
    keyed by a hash of (metric settings, sources, hypotheses, references).

    SQLite in WAL mode lets two runs read and write at once; each ``put`` is one transaction,
    so a run killed mid-way keeps every batch it finished and loses nothing else.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(self.path), timeout=60, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def get_translations(self, system: str, sources: Sequence[str]) -> dict[str, str]:
        """Cached hypotheses for the given sources under a system fingerprint hash."""
        found: dict[str, str] = {}
        keys = {digest(s): s for s in sources}
        items = list(keys)
        for start in range(0, len(items), 500):
            chunk = items[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT source, hypothesis FROM translation WHERE system=? AND source IN ({marks})", [system, *chunk]
            )
            for key, hyp in rows:
                found[keys[key]] = hyp
        return found

    def put_translations(self, system: str, pairs: Iterable[tuple[str, str]]) -> None:
        """Store (source, hypothesis) pairs atomically."""
        now = time.time()
        rows = [(system, digest(s), h, now) for s, h in pairs]
        with self._transaction():
            self._db.executemany("INSERT OR REPLACE INTO translation VALUES (?,?,?,?)", rows)

    def get_metric(self, key: str) -> dict[str, Any] | None:
        row = self._db.execute("SELECT result FROM metric WHERE key=?", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    def put_metric(self, key: str, result: dict[str, Any]) -> None:
        with self._transaction():
            self._db.execute("INSERT OR REPLACE INTO metric VALUES (?,?,?)",
                             (key, json.dumps(result, ensure_ascii=False), time.time()))

    def count(self) -> dict[str, int]:
        """Rows per table (for logs and tests)."""
        return {t: self._db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("translation", "metric")}

    def _transaction(self):
        db = self._db

        class _Tx:
            def __enter__(self):
                db.execute("BEGIN IMMEDIATE")

            def __exit__(self, exc_type, exc, tb):
                db.execute("ROLLBACK" if exc_type else "COMMIT")

        return _Tx()
