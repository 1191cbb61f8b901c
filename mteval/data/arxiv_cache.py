"""The arXiv abstracts cache: one checked JSON record per id and version, the latest version, versions arXiv lacks."""
from __future__ import annotations

import calendar
import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from mteval.data.arxiv_atom import MAX_VERSION, ArxivEntry, split_version
from mteval.files import write_json

log = logging.getLogger(__name__)

# arXiv's submission form caps an abstract at 1,920 characters (https://info.arxiv.org/help/prep.html);
# the feed adds wrapping and LaTeX stays as typed, so 10,000 leaves room and a record beyond it is not one.
MAX_ABSTRACT_CHARS = 10_000
MAX_RECORD_BYTES = 1 << 20  # a record is read whole, so its size is checked first
# How long an id or version arXiv did not serve stays "absent" without asking again (issue 20): a week
# spares every run of the week the request and its retries, and a mirror that gains it is seen within one.
ABSENT_TTL_S = 7 * 24 * 3600
_STAMP = "%Y-%m-%dT%H:%M:%SZ"


def cache_root(path: str | Path | None = None) -> Path:
    """Where abstracts are cached: ``path``, else ``$MTEVAL_DATA/arxiv``, else ``~/.cache/mteval/arxiv``."""
    if path:
        return Path(path).expanduser()
    return Path(os.environ.get("MTEVAL_DATA") or "~/.cache/mteval").expanduser() / "arxiv"


class ArxivCache:
    """Per id: ``v<N>.json`` (one version's entry), ``latest.json`` (the latest version seen), ``absent.json``.

    Every record is checked when read (types, the id and version it is filed under, MAX_VERSION,
    MAX_ABSTRACT_CHARS); one that fails is deleted and named in one warning, never trusted.
    """

    def __init__(self, root: str | Path | None = None):
        self.root = cache_root(root)

    def _dir(self, arxiv_id: str) -> Path:
        return self.root / arxiv_id.replace("/", "_")  # old-style ids: hep-th/9901001

    def get(self, arxiv_id: str, version: int) -> ArxivEntry | None:
        path = self._dir(arxiv_id) / f"v{version}.json"
        record = self._read(path)
        if record is None:
            return None
        fields = ArxivEntry.__dataclass_fields__
        problem = (_missing(record, {k: int if k == "version" else str for k in fields})
                   or (record["arxiv_id"] != arxiv_id and f"it holds {record['arxiv_id']!r}")
                   or (record["version"] != version and f"it holds v{record['version']}")
                   or (not 0 < len(record["abstract"]) <= MAX_ABSTRACT_CHARS
                       and f"its abstract has {len(record['abstract']):,} characters (1 to {MAX_ABSTRACT_CHARS:,})"))
        if problem:
            return self._discard(path, problem)
        return ArxivEntry(**{k: record[k] for k in fields})

    def latest(self, arxiv_id: str) -> int | None:
        path = self._dir(arxiv_id) / "latest.json"
        record = self._read(path)
        if record is None:
            return None
        problem = _missing(record, {"version": int}) or _implausible(record["version"])
        return self._discard(path, problem) if problem else record["version"]

    def absent(self, wanted: str) -> str | None:
        """Why arXiv did not serve ``wanted`` (an id or versioned id), if it was asked less than ABSENT_TTL_S ago."""
        base, version = split_version(wanted)
        value = self._absent(base).get(f"v{version}" if version else "latest")
        if value is None or time.time() - _stamp(value["checked"]) > ABSENT_TTL_S:
            return None
        return f"{value['reason']} (cached as absent on {value['checked'][:10]}; asked again after a week)"

    def put(self, entry: ArxivEntry, *, api: str, latest: bool) -> None:
        record = {**entry.__dict__, "api": api, "fetched": time.strftime(_STAMP, time.gmtime())}
        self._write(self._dir(entry.arxiv_id) / f"v{entry.version}.json", record)
        if latest:
            self._write(self._dir(entry.arxiv_id) / "latest.json", {"version": entry.version,
                                                                     "fetched": record["fetched"]})
        self._forget_absent(entry.arxiv_id, [f"v{entry.version}", *(["latest"] if latest else [])])

    def put_absent(self, wanted: str, reason: str, *, api: str) -> None:
        """Remember that ``api`` did not serve ``wanted``, and why, for ABSENT_TTL_S."""
        base, version = split_version(wanted)
        records = self._absent(base)
        records[f"v{version}" if version else "latest"] = {"reason": reason, "api": api,
                                                           "checked": time.strftime(_STAMP, time.gmtime())}
        self._write(self._dir(base) / "absent.json", records)

    def _forget_absent(self, arxiv_id: str, keys: list[str]) -> None:
        records = self._absent(arxiv_id)
        if any(k in records for k in keys):
            self._write(self._dir(arxiv_id) / "absent.json", {k: v for k, v in records.items() if k not in keys})

    def _absent(self, arxiv_id: str) -> dict[str, Any]:
        """``absent.json`` of an id (``latest`` or ``v<N>`` -> reason, api, checked), checked like the rest."""
        path = self._dir(arxiv_id) / "absent.json"
        records = self._read(path) or {}
        for key, value in records.items():
            problem = _absent_problem(key, value)
            if problem:
                self._discard(path, f"{key}: {problem}")
                return {}
        return records

    def _read(self, path: Path) -> dict[str, Any] | None:
        """The JSON object at ``path``; None when there is none (one that is no JSON object is discarded)."""
        try:
            size = path.stat().st_size
            if size > MAX_RECORD_BYTES:
                return self._discard(path, f"{size:,} bytes, more than the {MAX_RECORD_BYTES:,} a record can have")
            record = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as err:
            return self._discard(path, f"unreadable ({err})")
        return record if isinstance(record, dict) else self._discard(path, "not a JSON object")

    @staticmethod
    def _discard(path: Path, problem: str) -> None:
        log.warning("arXiv cache: discarded %s (%s); it will be fetched again", path, problem)
        try:
            path.unlink()
        except OSError:
            pass  # a read-only cache: still not trusted
        return None

    @staticmethod
    def _write(path: Path, record: dict) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json(path, record, indent=1)


def _missing(record: dict, types: dict[str, type]) -> str | None:
    """What is wrong with the fields of ``record`` (a bool is no int), or None."""
    for key, kind in types.items():
        if key not in record:
            return f"no {key!r}"
        if not isinstance(record[key], kind) or isinstance(record[key], bool):
            return f"{key!r} is not a{'n' if kind is int else ''} {kind.__name__}"
    return None


def _implausible(version: int) -> str | None:
    if 1 <= version <= MAX_VERSION:
        return None
    return f"version {version} is outside 1 to {MAX_VERSION}, more than any arXiv paper plausibly has"


def _absent_problem(key: str, value: Any) -> str | None:
    if key != "latest":
        if not (key.startswith("v") and key[1:].isdigit() and len(key) <= 7):
            return "not a version"
        if _implausible(int(key[1:])):
            return _implausible(int(key[1:]))
    if not isinstance(value, dict):
        return "not a record"
    problem = _missing(value, {"reason": str, "checked": str})
    if problem:
        return problem
    when = _stamp(value["checked"])
    if when is None or when > time.time() + 86400:  # a future date would keep it absent for ever
        return f"checked {value['checked'][:40]!r} is no past time"
    return None


def _stamp(text: str) -> float | None:
    try:
        return calendar.timegm(time.strptime(text, _STAMP))
    except ValueError:
        return None
