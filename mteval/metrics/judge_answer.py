"""An LLM judge's answer parsed strictly (one JSON object: error spans, then a 0-100 score) and its errors weighted.

The only accepted answer is a JSON object with exactly two keys::

    {"errors": [{"span": "...", "category": "accuracy", "severity": "major"}, ...], "score": 72}

optionally inside one Markdown code fence (chat models add one however they are asked). Category
and severity are compared case-insensitively with the configured lists; the span must be text of
the translation or of the source (an omission is marked in the source); the score is a number from
0 to 100. Anything else is :class:`Unparsable`, with a ``kind`` that is counted in scores.json.
Nothing is guessed from a broken answer: GEMBA's own parser salvages error counts from free text
(MicrosoftTranslator/GEMBA, gemba/gemba_mqm_utils.py), which scores answers no one can check.
"""
from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from mteval.metrics.spans import SEVERITIES

#: Why an answer was refused; every kind is counted (scores.json ``judge.failures``).
KINDS = ("not_json", "not_an_object", "keys", "errors", "span", "category", "severity", "score")

_FENCE = re.compile(r"```(?:json)?[ \t]*\n(.*)\n[ \t]*```", re.DOTALL)


class Unparsable(ValueError):
    """An answer outside the format; ``kind`` is one of :data:`KINDS`, ``detail`` says what was wrong."""

    def __init__(self, kind: str, detail: str):
        assert kind in KINDS, kind
        self.kind = kind
        self.detail = detail
        super().__init__(f"{kind}: {detail}")


@dataclass(frozen=True)
class ErrorSpan:
    span: str
    category: str
    severity: str


@dataclass(frozen=True)
class Annotation:
    """One segment's judgement: its error spans and the judge's own overall 0-100 score."""

    errors: tuple[ErrorSpan, ...]
    score: float

    def weighted_errors(self, weights: Mapping[str, float]) -> float:
        """Minus the severity-weighted error count (0 = no error; higher is better)."""
        return -float(sum(weights[e.severity] for e in self.errors))


def parse_answer(answer: str, *, severities: Collection[str], categories: Collection[str], source: str,
                 translation: str, check_spans: bool = True) -> Annotation:
    """Parse one answer or raise :class:`Unparsable`."""
    text = answer.strip()
    fenced = _FENCE.fullmatch(text)
    if fenced:
        text = fenced.group(1).strip()
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except (ValueError, RecursionError) as err:
        raise Unparsable("not_json", f"not one JSON object ({_short(err)})") from None
    if not isinstance(data, dict):
        raise Unparsable("not_an_object", f"a JSON {type(data).__name__}, not an object")
    if set(data) != {"errors", "score"}:
        raise Unparsable("keys", f"keys {sorted(data)}, expected exactly errors and score")
    if not isinstance(data["errors"], list):
        raise Unparsable("errors", "'errors' is not a list")
    errors = tuple(_error(item, severities, categories, source, translation, check_spans) for item in data["errors"])
    score = data["score"]
    if isinstance(score, bool) or not isinstance(score, (int, float)):
        raise Unparsable("score", f"'score' is {json.dumps(score)[:40]}, not a number")
    if not 0 <= score <= 100:
        raise Unparsable("score", f"'score' {score} is outside 0-100")
    return Annotation(errors=errors, score=float(score))


def _error(item: object, severities: Collection[str], categories: Collection[str], source: str,
           translation: str, check_spans: bool) -> ErrorSpan:
    if not isinstance(item, dict) or set(item) != {"span", "category", "severity"}:
        raise Unparsable("errors", "each error must be an object with exactly span, category and severity")
    span, category, severity = item["span"], item["category"], item["severity"]
    if not all(isinstance(v, str) for v in (span, category, severity)):
        raise Unparsable("errors", "span, category and severity must be strings")
    if severity.strip().lower() not in severities:
        raise Unparsable("severity", f"severity {severity[:30]!r} is not one of {', '.join(severities)}")
    if category.strip().lower() not in categories:
        raise Unparsable("category", f"category {category[:30]!r} is not one of {', '.join(categories)}")
    if not span.strip():
        raise Unparsable("span", "an error span is empty")
    if check_spans and span not in translation and span not in source:
        raise Unparsable("span", f"span {span[:30]!r} is in neither the translation nor the source")
    return ErrorSpan(span=span, category=category.strip().lower(), severity=severity.strip().lower())


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("a key occurs twice")
    return dict(pairs)


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def _short(err: BaseException) -> str:
    return str(err).split(":")[0][:60]


def placed_spans(annotation: Annotation, hyp: str) -> list[dict[str, Any]]:
    """The error spans found in the hypothesis, with character offsets (a repeated span takes the next
    occurrence); spans only in the source (omissions) and severities the report does not know are left
    out here (they count in the weighted error score and stay in the annotation)."""
    out, taken = [], set()
    for e in annotation.errors:
        start = hyp.find(e.span)
        while start >= 0 and (start, e.span) in taken:
            start = hyp.find(e.span, start + 1)
        if start < 0 or e.severity not in SEVERITIES:
            continue
        taken.add((start, e.span))
        out.append({"text": e.span, "start": start, "end": start + len(e.span), "severity": e.severity,
                    "category": e.category})
    return out
