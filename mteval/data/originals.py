"""English originals of Chinese seed blocks: fetched from arXiv by the id map, kept only when pairing confirms them."""
from __future__ import annotations

import csv
import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mteval.data.arxiv import DEFAULT_API, ArxivClient, fetch_abstracts
from mteval.data.arxiv_http import ResponseRefused
from mteval.data.arxiv_atom import ARXIV_ID, MAX_VERSION, ArxivEntry, normalise, split_version
from mteval.data.arxiv_cache import ArxivCache
from mteval.data.originals_versions import choose, score_versions
from mteval.data.textfile import read_lines
from mteval.errors import DataUnavailableError, InputError
from mteval.types import Block
from mteval.data.pairing import DEFAULT_MIN_SCORE
from mteval.data.summary import REFERENCE_NOTE

log = logging.getLogger(__name__)

COLUMNS = ("block_id", "arxiv_id")
# A Chinese block this many standard deviations shorter than a translation of its whole original
# (the pairing's length signal, calibrated on WMT22) probably translates only part of it: flagged,
# as its reference-based scores then understate the MT.
SHORT_Z = -2.0
FETCH_HINT = "fetch them where arXiv is reachable: `mteval-corpus fetch-originals` (or `make models`)"
# An answer refused as implausible (issue 23) comes back the same from there: the endpoint is the problem.
REFUSED_HINT = f"check MTEVAL_ARXIV_API: it must name an arXiv API endpoint you trust (unset: {DEFAULT_API})"


@dataclass(frozen=True)
class IdRow:
    """One line of the id map: a Chinese block and the arXiv paper it translates (optionally a pinned version)."""

    block_id: str
    arxiv_id: str
    line: int


@dataclass(frozen=True)
class Original:
    """A fetched English abstract confirmed as the source of a Chinese block."""

    block_id: str
    arxiv_id: str
    version: int
    latest_version: int | None
    text: str
    score: float
    length_z: float = 0.0  # the pairing's length signal: how much shorter (< 0) the Chinese is than a full translation
    why: str = ""  # why this version (originals_versions.choose), and the versions that could not be fetched
    log_odds: dict[int, float] = field(default_factory=dict)  # every version tried, paired with the block

    @property
    def reference_short(self) -> bool:
        """The Chinese is far shorter than a translation of the whole original: it may cover only part of it."""
        return self.length_z < SHORT_Z

    @property
    def versioned_id(self) -> str:
        return f"{self.arxiv_id}v{self.version}"

    def to_json(self) -> dict[str, Any]:
        return {"block": self.block_id, "arxiv": self.versioned_id, "latest_version": self.latest_version,
                "pair_score": round(self.score, 4), "length_z": round(self.length_z, 2), "why": self.why,
                "log_odds": {f"v{v}": round(x, 3) for v, x in self.log_odds.items()}}


@dataclass
class OriginalsReport:
    """What became of each mapped block: confirmed, fetched but not confirmed, or not fetched (and why)."""

    confirmed: list[Original] = field(default_factory=list)
    not_confirmed: dict[str, str] = field(default_factory=dict)  # block id -> the id, each version's score
    unavailable: dict[str, str] = field(default_factory=dict)  # block id -> the id and why there is no abstract
    reason: str | None = None  # why nothing could be fetched (offline, unreachable, refused), one line
    hint: str = FETCH_HINT  # what to do about ``reason``
    mapped: list[str] = field(default_factory=list)  # the blocks of these pages the id map names
    cache: str = ""
    requests: int = 0  # HTTP requests sent to arXiv (0: everything came from the cache)

    def to_json(self) -> dict[str, Any]:
        return {"confirmed": [o.to_json() for o in self.confirmed], "not_confirmed": self.not_confirmed,
                "unavailable": self.unavailable, "reason": self.reason}


def read_id_map(path: str | Path) -> list[IdRow]:
    """The TSV of ``block_id`` -> ``arxiv_id`` (other columns are for reading); bad rows name file and line."""
    lines = read_lines(path)
    if not lines:
        raise InputError(path, None, "empty id map")
    header = lines[0][1].rstrip("\n").split("\t")
    if tuple(header[:2]) != COLUMNS:
        raise InputError(path, lines[0][0], f"the header must start with {chr(9).join(COLUMNS)!r}")
    rows: list[IdRow] = []
    for lineno, text in lines[1:]:
        if not text.strip():
            continue
        cells = next(csv.reader([text.rstrip("\n")], delimiter="\t"))
        if len(cells) < 2 or not cells[0].startswith("abs-") or not ARXIV_ID.match(cells[1].strip()):
            raise InputError(path, lineno, "expected a block id (abs-...) and an arXiv id (2112.04417 or 2112.04417v2)")
        if (split_version(cells[1].strip())[1] or 0) > MAX_VERSION:
            raise InputError(path, lineno, f"{cells[1].strip()}: no arXiv paper plausibly has more than "
                                           f"{MAX_VERSION} versions")
        if any(r.block_id == cells[0].strip() for r in rows):
            raise InputError(path, lineno, f"block {cells[0].strip()} is mapped twice")
        rows.append(IdRow(cells[0].strip(), cells[1].strip(), lineno))
    return rows


def find_originals(blocks: Sequence[Block], rows: Sequence[IdRow], *, cache: ArxivCache, client: ArxivClient | None,
                   min_score: float, skip: Collection[str] = ()) -> OriginalsReport:
    """Fetch (or read cached) and confirm the original of every mapped Chinese block among ``blocks``.

    Two requests at most: the newest version of every id, then every earlier version of them. Each
    version is paired with its block (originals_versions); the newest is kept unless an earlier one
    pairs better by a clear margin, or only earlier ones pair. A pinned version (``2112.04417v2``) is
    the only one tried. Blocks left out or not available are each named in a warning, with the reason.

    Raises nothing for an unreachable arXiv: the report says why (``reason``) and holds what the cache had.
    """
    zh = {b.id for b in blocks if b.lang == "zh"}
    # Rows for blocks of other pages are not this corpus's; ``skip``: blocks the pages already pair.
    rows = [r for r in rows if r.block_id in zh and r.block_id not in skip]
    report = OriginalsReport(mapped=[r.block_id for r in rows], cache=str(cache.root))
    asked = client.requests if client else 0
    first, why_not = _fetch(cache, client, [r.arxiv_id for r in rows], report)
    for r in rows:
        if r.arxiv_id not in first:
            report.unavailable[r.block_id] = f"{r.arxiv_id}: {why_not.get(r.arxiv_id, report.reason or 'not fetched')}"
    newest = {r.block_id: first[r.arxiv_id] for r in rows if r.arxiv_id in first}
    pinned = {r.block_id for r in rows if split_version(r.arxiv_id)[1] is not None}
    earlier = {b: [f"{e.arxiv_id}v{v}" for v in range(e.version - 1, 0, -1)]  # version <= MAX_VERSION: checked
               for b, e in newest.items() if b not in pinned}
    # After a failed request, the cache only: asking again would repeat its retries.
    more, why_not = _fetch(cache, None if report.reason else client, [v for vs in earlier.values() for v in vs],
                           report)
    versions = {b: [e, *[more[v] for v in earlier.get(b, []) if v in more]] for b, e in newest.items()}
    trials = score_versions(blocks, versions, min_score=min_score)
    for r in rows:
        if r.block_id not in newest:
            continue
        kept, why = choose(trials[r.block_id], newest[r.block_id].version, min_score=min_score,
                           pinned=r.block_id in pinned)
        gaps = "; ".join(f"{v}: {why_not.get(v, report.reason or 'not fetched')}"
                         for v in earlier.get(r.block_id, []) if v not in more)
        why += f"; not tried: {gaps}" if gaps else ""
        if kept is None:
            report.not_confirmed[r.block_id] = f"{r.arxiv_id}: {why}"
            continue
        entry = next(e for e in versions[r.block_id] if e.version == kept.version)
        report.confirmed.append(Original(r.block_id, entry.arxiv_id, entry.version,
                                         None if r.block_id in pinned else newest[r.block_id].version,
                                         normalise(entry.abstract), kept.score, kept.length_z, why,
                                         {v: t.log_odds for v, t in sorted(trials[r.block_id].items())}))
    for b, why in report.not_confirmed.items():
        log.warning("arXiv original of %s left out: %s", b, why)
    if report.reason is None:  # otherwise the reason says it for all of them
        for b, why in report.unavailable.items():
            log.warning("arXiv original of %s not available: %s", b, why)
    report.requests = client.requests - asked if client else 0
    return report


def _fetch(cache: ArxivCache, client: ArxivClient | None, ids: list[str],
           report: OriginalsReport) -> tuple[dict[str, ArxivEntry], dict[str, str]]:
    """``fetch_abstracts``; a failed request becomes the report's reason, and the cached part is kept."""
    try:
        return fetch_abstracts(ids, cache=cache, client=client)
    except DataUnavailableError as err:
        found, missing = fetch_abstracts(ids, cache=cache, client=None)
        if report.reason is None:
            report.reason = f"{err} (cache: {cache.root})"
            report.hint = REFUSED_HINT if isinstance(err, ResponseRefused) else FETCH_HINT
        return found, {i: cache.absent(i) or "not cached, and arXiv could not be asked" for i in missing}


def originals_report(blocks: Sequence[Block], id_map: str, *, skip: Collection[str] = (), cache: str | None = None,
                     fetch: bool = True, require: bool = False, min_score: float | None = None) -> OriginalsReport:
    """``find_originals`` with the settings of the abstracts dataset; an unreachable arXiv is one warning.

    Raises:
        DataUnavailableError: ``require`` and some abstract could not be fetched (offline, unreachable).
    """

    rows = read_id_map(id_map)
    report = find_originals(blocks, rows, skip=skip, cache=ArxivCache(cache), client=ArxivClient() if fetch else None,
                            min_score=DEFAULT_MIN_SCORE if min_score is None else min_score)
    if report.reason and require:
        raise DataUnavailableError(f"{report.reason}; {report.hint}")
    return report


def summary_line(report: OriginalsReport) -> str:
    """One line: how many mapped blocks got a confirmed original (which id and version), and why not the rest."""
    n, m = len(report.confirmed), len(report.mapped)
    if not n:
        why = report.reason or "; ".join(sorted(set(report.unavailable.values()))) or "none confirmed"
        # Only what the originals add: the summary line above counts every reference, user references included
        # ("scored reference-free only" here once followed "sources scored against a reference: 1").
        return (f"arXiv originals: none of {m} ({why}), so no Chinese block of the pages serves as a reference"
                + ("" if report.reason is None else f"; {report.hint}"))
    older = sum(1 for o in report.confirmed if o.latest_version and o.version < o.latest_version)
    line = (f"arXiv originals: {n} of {m} mapped Chinese blocks confirmed as Google Translate output of "
            f"{', '.join(o.versioned_id for o in report.confirmed)} ({older} an earlier version than the latest)")
    short = [o.versioned_id for o in report.confirmed if o.reference_short]
    if short:
        line += f"; the Chinese of {', '.join(short)} is far shorter than the original (it may translate only part)"
    if report.not_confirmed:
        line += f"; {len(report.not_confirmed)} fetched but not confirmed, left out"
    if report.unavailable:
        line += f"; {len(report.unavailable)} not available ({report.reason or 'each named with its reason'})"
    return line


def describe(report: OriginalsReport, *, direction: str, id_map: str) -> dict[str, Any]:
    """The corpus summary's ``arxiv_originals`` entry, with the ``note`` on what the references are."""
    n = len(report.confirmed)
    if n and direction == "en-zh":
        note = (f"The {n} arXiv originals are scored against the Chinese blocks of the seed pages, which are Google "
                "Translate output: reference-based scores measure agreement with Google Translate, not with a human "
                "translation. Every other source is scored reference-free only.")
    elif n:
        note = (f"The {n} Chinese sources with a reference are Google Translate output (the seed pages' Chinese "
                "blocks), their references the English arXiv originals: this measures translating machine output "
                "back into English, not translating human-written Chinese.")
    else:

        note = REFERENCE_NOTE
    return {"id_map": id_map, "cache": report.cache, "line": summary_line(report), "note": note,
            "mapped": len(report.mapped), **report.to_json()}
