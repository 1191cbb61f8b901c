"""Error spans (XCOMET): cleaned from the model, merged across sentence units, counted and checked when read back."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mteval.errors import InputError

#: XCOMET's error labels, mildest first (comet's XCOMETMetric asserts exactly these, in this order).
SEVERITIES = ("minor", "major", "critical")
#: The segment_extra field, and so the segments.jsonl key suffix (``xcomet_error_spans``).
FIELD = "error_spans"


def spans_key(metric: str) -> str:
    """The segments.jsonl key holding a metric's error spans."""
    return f"{metric}_{FIELD}"


def clean_spans(hyp: str, spans: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """XCOMET's spans for one hypothesis, as we store them: ``text`` is the hypothesis's own characters
    ``hyp[start:end]``, not comet's ``text`` (a detokenised string that can carry ``<s>`` and
    normalised punctuation, so it would not match the hypothesis); offsets are characters."""
    out = []
    for span in spans:
        start, end = max(0, int(span["start"])), min(len(hyp), int(span["end"]))
        out.append({"text": hyp[start:end], "start": start, "end": max(start, end),
                    "severity": str(span["severity"]), "confidence": round(float(span["confidence"]), 4)})
    return out


def merge_units(unit_spans: Sequence[list[dict[str, Any]] | None], unit_hyps: Sequence[str], owner: Sequence[int],
                seg_hyps: Sequence[str]) -> list[list[dict[str, Any]] | None]:
    """Spans of sentence units moved onto their segment's hypothesis (a long segment scored by its
    sentence pairs): each unit's offsets shift by where its text starts in the segment, searched
    from the end of the previous unit; a unit whose text is not found keeps no spans."""
    out: list[list[dict[str, Any]] | None] = [None] * len(seg_hyps)
    cursor = [0] * len(seg_hyps)
    for spans, text, j in zip(unit_spans, unit_hyps, owner, strict=True):
        at = seg_hyps[j].find(text, cursor[j]) if text else -1
        if at >= 0:
            cursor[j] = at + len(text)
        if spans is None:
            continue
        merged = out[j] if out[j] is not None else []
        if at >= 0:
            merged += [{**s, "start": s["start"] + at, "end": s["end"] + at} for s in spans]
        out[j] = merged
    return out


def severity_counts(per_segment: Sequence[list[dict[str, Any]] | None]) -> dict[str, int]:
    """Spans per severity, and the segments with at least one span, over the scored segments."""
    counts = dict.fromkeys(SEVERITIES, 0)
    for spans in per_segment:
        for s in spans or []:
            counts[s["severity"]] = counts.get(s["severity"], 0) + 1
    counts["segments_with_errors"] = sum(1 for spans in per_segment if spans)
    return counts


def check_spans(value: Any, hyp: str, key: str, path: Path | str, line: int) -> None:
    """A segments.jsonl span list: null, or objects with offsets inside the hypothesis and a known severity."""
    if value is None:
        return
    if not isinstance(value, list):
        raise InputError(path, line, f"'{key}' must be a list of spans or null, got {type(value).__name__}")
    for k, s in enumerate(value, start=1):
        ok = (isinstance(s, dict) and all(isinstance(s.get(f), int) and not isinstance(s.get(f), bool)
                                          for f in ("start", "end"))
              and s.get("severity") in SEVERITIES and isinstance(s.get("text", ""), str)
              and isinstance(s.get("confidence", 0.0), (int, float)))
        if not ok or not 0 <= s["start"] <= s["end"] <= len(hyp):
            raise InputError(path, line, f"'{key}' span {k} must have 0 <= start <= end <= {len(hyp)} (the "
                                         f"hypothesis length) and a severity in {', '.join(SEVERITIES)}; got {s!r:.120}")
