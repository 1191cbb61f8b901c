"""JSONL and TSV corpora (one segment per line, with optional id and references)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mteval.data.limit import first
from mteval.data.provenance import file_digest
from mteval.data.textfile import field_problem, read_lines
from mteval.errors import InputError
from mteval.types import Corpus, Direction, Segment
from mteval.validate import SettingError


def read_jsonl(path: str | Path) -> list[tuple[int, dict[str, Any]]]:
    """Parse a JSONL file into ``(line, object)`` pairs; blank lines are skipped.

    Raises:
        InputError: a line that is not a JSON object, with file and line.
    """
    out = []
    for number, text in read_lines(path):
        if not text.strip():
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as err:
            raise InputError(path, number, f"not valid JSON ({err.msg} at column {err.colno})") from None
        if not isinstance(obj, dict):
            raise InputError(path, number, "expected a JSON object per line")
        out.append((number, obj))
    return out


def _text(path: str | Path, number: int, obj: dict[str, Any], key: str, *, required: bool) -> str | None:
    value = obj.get(key)
    if value is None:
        if required:
            raise InputError(path, number, f"missing field {key!r}")
        return None
    if not isinstance(value, str):
        raise InputError(path, number, f"field {key!r} must be a string, got {type(value).__name__}")
    problem = field_problem(value)
    if problem is not None:
        raise InputError(path, number, f"field {key!r} {problem}")
    if required and not value.strip():
        raise InputError(path, number, f"field {key!r} is empty")
    return value


def references_by_id(path: str | Path) -> dict[str, tuple[list[str], int]]:
    """Read a references file: JSONL with ``id`` and ``ref`` (a string) or ``refs`` (a list).

    Returns id -> (references, line). Duplicate ids are an error.
    """
    out: dict[str, tuple[list[str], int]] = {}
    for number, obj in read_jsonl(path):
        seg_id = obj.get("id")
        if not isinstance(seg_id, str) or not seg_id:
            raise InputError(path, number, "missing or empty string field 'id'")
        if seg_id in out:
            raise InputError(path, number, f"id {seg_id!r} already given on line {out[seg_id][1]}")
        if "refs" in obj:
            if not isinstance(obj["refs"], list):
                raise InputError(path, number, "field 'refs' must be a list of strings")
            refs = [_text(path, number, {"r": r}, "r", required=True) or "" for r in obj["refs"]]
        else:
            refs = [_text(path, number, obj, "ref", required=True) or ""]
        out[seg_id] = (refs, number)
    return out


def load_jsonl(
    *,
    name: str,
    path: str,
    direction: str,
    src_field: str = "src",
    ref_fields: list[str] | None = None,
    id_field: str = "id",
    limit: int | None = None,
) -> Corpus:
    """Load a JSONL (``.jsonl``) or tab-separated (``.tsv``: src, ref...) corpus.

    Args:
        name: dataset name. path: the file. direction: the corpus's direction (``en-zh``).
        src_field: JSONL field with the source. ref_fields: JSONL fields with references
            (default ``["ref"]`` when present). id_field: JSONL field with the segment id
            (line number when absent). limit: keep the first ``limit`` segments.
    """
    if ref_fields is not None and (not isinstance(ref_fields, list)
                                   or not all(isinstance(f, str) and f for f in ref_fields)):
        raise SettingError("ref_fields", ref_fields, "must be a list of field names, or null for 'ref'")
    langs = Direction.parse(direction)
    if str(path).endswith(".tsv"):
        segments = _tsv_segments(path)
    else:
        segments = _jsonl_segments(path, src_field=src_field, ref_fields=ref_fields, id_field=id_field)
    if not segments:
        raise InputError(path, None, "no segments")
    segments = first(segments, limit, path)
    return Corpus(
        name=name, src_lang=langs.src, tgt_lang=langs.tgt, segments=segments,
        summary={"segments": len(segments), "with_reference": sum(1 for s in segments if s.refs)},
        provenance={"files": {path: file_digest(path)}, "limit": limit},
    )


def _tsv_segments(path: str) -> list[Segment]:
    """Rows of ``src<TAB>ref...``; an empty column is an error, as an empty line of a reference file."""
    segments = []
    for number, text in read_lines(path):
        cols = text.split("\t")
        if not cols[0].strip():
            raise InputError(path, number, "empty source column")
        for column, ref in enumerate(cols[1:], start=2):
            if not ref.strip():
                raise InputError(path, number, f"reference column {column} is empty; give the reference "
                                               "or remove the column (and its tab)")
        segments.append(Segment(id=str(number), src=cols[0], refs=cols[1:], origin=f"{Path(path).name}:{number}"))
    return segments


def _jsonl_segments(path: str, *, src_field: str, ref_fields: list[str] | None, id_field: str) -> list[Segment]:
    """One segment per JSON object. A reference field that is absent or null means no reference; one
    that is empty or spaces only is an error (never scored as text), as is a ``ref_fields`` entry
    that no row has (a typo would otherwise score every segment reference-free)."""
    segments = []
    seen: set[str] = set()
    fields_seen: set[str] = set()
    for number, obj in read_jsonl(path):
        fields_seen.update(obj)
        src = _text(path, number, obj, src_field, required=True) or ""
        fields = ref_fields if ref_fields is not None else (["ref"] if "ref" in obj else [])
        refs = [r for f in fields if (r := _text(path, number, obj, f, required=False)) is not None]
        for f in fields:
            if isinstance(obj.get(f), str) and not obj[f].strip():
                raise InputError(path, number, f"field {f!r} is empty; give the reference, or leave the field "
                                               "out (or null) for a segment without one")
        raw_id = obj.get(id_field)
        seg_id = str(number) if raw_id is None else str(raw_id)
        if seg_id in seen:
            raise InputError(path, number, f"duplicate segment id {seg_id!r}")
        seen.add(seg_id)
        segments.append(Segment(id=seg_id, src=src, refs=refs, origin=f"{Path(path).name}:{number}"))
    unmatched = [f for f in ref_fields or [] if f not in fields_seen]
    if unmatched and segments:
        raise SettingError("ref_fields", ref_fields, f"names {', '.join(map(repr, unmatched))}, which no row of "
                                                     f"{path} has (its fields: {', '.join(sorted(fields_seen))})")
    return segments
