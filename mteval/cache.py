"""Content-addressed SQLite cache for translations and metric results (embedded; no server)."""
from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mteval.errors import CacheError, ConfigError
from mteval.files import digest

_SCHEMA = """
CREATE TABLE IF NOT EXISTS translation (
    system TEXT NOT NULL, source TEXT NOT NULL, hypothesis TEXT NOT NULL, created REAL NOT NULL,
    PRIMARY KEY (system, source));
CREATE TABLE IF NOT EXISTS metric (
    key TEXT PRIMARY KEY, result TEXT NOT NULL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS embedding (
    key TEXT PRIMARY KEY, dtype TEXT NOT NULL, shape TEXT NOT NULL, data BLOB NOT NULL, crc INTEGER NOT NULL,
    nbytes INTEGER NOT NULL, used INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS embedding_used ON embedding (used);
"""
#: The default bound on stored sentence embeddings (``cache_embeddings_mb`` in conf/config.yaml). One
#: XLM-R-large embedding is 4 KB: WMT22 en-zh's 2 x 2,037 sources and references take 17 MB.
EMBEDDINGS_MB = 512
#: A stored embedding: dtype name, shape ("1024"), raw bytes, CRC-32 of the bytes.
Blob = tuple[str, str, bytes, int]
_IN_CHUNK = 500  # SQLite's default limit on bound parameters is 999 (older builds)


class Cache:
    """Two tables: translations keyed by (system fingerprint, source hash) and metric results
    keyed by a hash of (metric settings, sources, hypotheses, references).

    Concurrency and crashes: the database runs in WAL mode, so readers never block and two runs
    can share one file; every write is one ``BEGIN IMMEDIATE`` transaction (the write lock is
    taken up front, so a commit never fails half-way with "database is locked"), and the first
    hypothesis stored for a key wins (``INSERT OR IGNORE``), so two runs translating the same
    source at once agree on one answer. A process killed mid-transaction leaves nothing of it:
    SQLite rolls the open transaction back when the next connection opens the file.

    Args:
        path: the database file (created with its directory). Must be on a local disk: WAL needs
            shared memory, which network file systems do not provide.
        timeout: seconds to wait for another run's write lock before giving up.
        embeddings_mb: the most sentence embeddings (COMET's sources and references) the file keeps, in
            MB of their raw bytes; past it the least recently used go. 0 keeps none.
    """

    def __init__(self, path: str | Path, *, timeout: float = 60.0, embeddings_mb: float = EMBEDDINGS_MB):
        self.path = Path(path)
        self.embeddings_cap = int(embeddings_mb * 2**20)
        self._counts = dict.fromkeys(("hits", "misses", "corrupt", "stored", "evicted"), 0)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(self.path), timeout=timeout, isolation_level=None)
            self._db.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
            self._switch_to_wal(timeout)
            self._db.execute("PRAGMA synchronous=NORMAL")
            with self._transaction():
                for statement in filter(str.strip, _SCHEMA.split(";")):
                    self._db.execute(statement)
        except (sqlite3.Error, OSError) as err:
            raise ConfigError(f"cache {self.path}: {err}; delete the file or run with cache=null") from None

    def _switch_to_wal(self, timeout: float) -> None:
        """Turn on WAL mode, retrying: SQLite answers "database is locked" at once, without waiting
        for the busy timeout, when several processes open a new cache file at the same moment."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                mode = self._db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
                break
            except sqlite3.OperationalError as err:
                if "locked" not in str(err) and "busy" not in str(err) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        if str(mode).lower() != "wal":
            raise sqlite3.OperationalError(f"could not switch to WAL mode (got {mode})")

    def close(self) -> None:
        with self._guard("closing"):
            self._db.close()

    @contextmanager
    def _guard(self, action: str) -> Iterator[None]:
        """Turn a fault after open (a corrupt page, a full disk, a vanished file) into one CacheError line.

        Every earlier transaction is committed and stays in the file; only the one that failed is
        rolled back, so a rerun after the fix translates nothing that was finished.
        """
        try:
            yield
        except (sqlite3.Error, OSError) as err:
            raise CacheError(f"cache {self.path}: {err} (while {action}); entries stored before are kept. Free "
                             "disk space, or repair the file (sqlite3 FILE .recover), or run with cache=null") from None

    def __enter__(self) -> Cache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get_translations(self, system: str, sources: Sequence[str]) -> dict[str, str]:
        """Cached hypotheses for the given sources under a system fingerprint hash."""
        keys: dict[str, str] = {}
        for s in sources:
            keys.setdefault(digest(s), s)
        with self._guard("reading translations"):
            return {keys[k]: h for k, h in self._select(system, list(keys))}

    def _select(self, system: str, keys: list[str]) -> Iterator[tuple[str, str]]:
        for start in range(0, len(keys), _IN_CHUNK):
            chunk = keys[start : start + _IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            yield from self._db.execute(
                f"SELECT source, hypothesis FROM translation WHERE system=? AND source IN ({marks})", [system, *chunk]
            )

    def put_translations(self, system: str, pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
        """Store (source, hypothesis) pairs in one transaction; return what the cache now holds for them.

        A source another run stored first keeps that run's hypothesis (first writer wins), and
        the returned mapping says which one, so both runs report the same output.
        """
        now = time.time()
        by_key = {digest(s): (s, h) for s, h in pairs}
        for s, h in by_key.values():
            if not isinstance(h, str):
                raise TypeError(f"hypothesis for {s[:40]!r} is {type(h).__name__}, not str")
        with self._guard("storing translations"), self._transaction():
            self._db.executemany("INSERT OR IGNORE INTO translation VALUES (?,?,?,?)",
                                 [(system, k, h, now) for k, (_, h) in by_key.items()])
            stored = dict(self._select(system, list(by_key)))
        return {by_key[k][0]: h for k, h in stored.items()}

    def get_metric(self, key: str) -> dict[str, Any] | None:
        with self._guard("reading a metric result"):
            row = self._db.execute("SELECT result FROM metric WHERE key=?", (key,)).fetchone()
        if row is None:
            return None
        try:
            return json.loads(row[0])
        except ValueError:
            raise CacheError(f"cache {self.path}: a stored metric result is not JSON; repair the file "
                             "(sqlite3 FILE .recover) or run with cache=null") from None

    def put_metric(self, key: str, result: dict[str, Any]) -> None:
        """Store a metric result (a later identical computation replaces it: same key, same value)."""
        text = json.dumps(result, ensure_ascii=False)
        with self._guard("storing a metric result"), self._transaction():
            self._db.execute("INSERT OR REPLACE INTO metric VALUES (?,?,?)", (key, text, time.time()))

    def count(self) -> dict[str, int]:
        """Rows per table (for logs and tests)."""
        with self._guard("counting entries"):
            return {t: self._db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("translation", "metric")}

    def get_embeddings(self, keys: Sequence[str]) -> dict[str, Blob]:
        """Stored embeddings by key; the ones found become the most recently used."""
        found: dict[str, Blob] = {}
        with self._guard("reading embeddings"), self._transaction():
            tick = self._tick()
            for start in range(0, len(keys), _IN_CHUNK):
                chunk = list(keys[start : start + _IN_CHUNK])
                marks = ",".join("?" * len(chunk))
                found.update((k, (d, s, b, c)) for k, d, s, b, c in self._db.execute(
                    f"SELECT key, dtype, shape, data, crc FROM embedding WHERE key IN ({marks})", chunk))
                self._db.execute(f"UPDATE embedding SET used=? WHERE key IN ({marks})", [tick, *chunk])
        return found

    def put_embeddings(self, rows: dict[str, Blob]) -> None:
        """Store embeddings (replacing any under the same key: a corrupt one is overwritten), then drop the
        least recently used until the rest fit in ``embeddings_mb``."""
        if not rows or not self.embeddings_cap:
            return
        with self._guard("storing embeddings"), self._transaction():
            tick = self._tick()
            self._db.executemany("INSERT OR REPLACE INTO embedding VALUES (?,?,?,?,?,?,?)",
                                 [(k, d, s, b, c, len(b), tick) for k, (d, s, b, c) in rows.items()])
            before = self._db.total_changes
            self._db.execute("DELETE FROM embedding WHERE key IN (SELECT key FROM (SELECT key, SUM(nbytes) OVER "
                             "(ORDER BY used DESC, key) AS kept FROM embedding) WHERE kept > ?)", (self.embeddings_cap,))
            self._counts["evicted"] += self._db.total_changes - before
        self._counts["stored"] += len(rows)

    def _tick(self) -> int:
        """The next use count (not the clock: two uses in one clock tick stay ordered)."""
        return self._db.execute("SELECT COALESCE(MAX(used), 0) + 1 FROM embedding").fetchone()[0]

    def note_embedding_lookups(self, *, hits: int, misses: int, corrupt: int) -> None:
        """Count texts whose embedding was found (in this process or the file), not found, or found unreadable."""
        self._counts["hits"] += hits
        self._counts["misses"] += misses
        self._counts["corrupt"] += corrupt

    def take_embedding_report(self) -> dict[str, int]:
        """The embedding table now (entries, bytes, cap) and the counts since the last report, which restart."""
        with self._guard("counting embeddings"):
            entries, size = self._db.execute("SELECT COUNT(*), COALESCE(SUM(nbytes), 0) FROM embedding").fetchone()
        report = {"entries": entries, "bytes": size, "cap_bytes": self.embeddings_cap, **self._counts}
        self._counts = dict.fromkeys(self._counts, 0)
        return report

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            try:
                self._db.execute("ROLLBACK")
            except sqlite3.Error:  # SQLite may have rolled back already (a full disk does); keep the first error
                pass
            raise
        self._db.execute("COMMIT")
