"""Plain dataclasses that flow between the layers: blocks, segments, corpora, metric and run results."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mteval.validate import SettingError


@dataclass(frozen=True)
class Origin:
    """Where a piece of text came from: a file and a 1-based line (and block, for seed pages)."""

    file: str
    line: int
    block: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}"
        return where if self.block is None else f"{where} (block {self.block})"


@dataclass
class Block:
    """One abstract read from a seed page, after dedupe.

    Args:
        id: stable id derived from the normalised text (same text -> same id on every machine).
        lang: "en" or "zh", detected by script.
        text: the block text, stripped.
        origins: every place this text occurs (duplicates keep all of them).
        truncated: the scraped text was cut off (ends with "..." or "…").
    """

    id: str
    lang: str
    text: str
    origins: list[Origin] = field(default_factory=list)
    truncated: bool = False

    @property
    def count(self) -> int:
        return len(self.origins)


@dataclass(frozen=True)
class Direction:
    """A translation direction (``en-zh``), parsed once where the config is read and passed on as a value."""

    src: str
    tgt: str

    @classmethod
    def parse(cls, text: str, setting: str = "direction") -> Direction:
        """``"en-zh"`` -> ``Direction("en", "zh")``.

        Raises:
            SettingError: not two language codes joined by one ``-`` (one line naming ``setting``).
        """
        src, sep, tgt = str(text).partition("-")
        if not sep or not src.strip() or not tgt.strip() or "-" in tgt:
            raise SettingError(setting, text, "is not a direction: use two language codes, e.g. en-zh")
        return cls(src, tgt)

    def __str__(self) -> str:
        return f"{self.src}-{self.tgt}"


@dataclass
class Segment:
    """One unit to translate and score: a source, zero or more references, and where it came from."""

    id: str
    src: str
    refs: list[str] = field(default_factory=list)
    doc_id: str | None = None
    domain: str | None = None
    origin: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class Corpus:
    """An ordered list of segments in one direction, with its summary and provenance."""

    name: str
    src_lang: str
    tgt_lang: str
    segments: list[Segment]
    summary: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def direction(self) -> str:
        return f"{self.src_lang}-{self.tgt_lang}"

    @property
    def n_refs(self) -> int:
        """The largest number of references any segment has."""
        return max((len(s.refs) for s in self.segments), default=0)

    def __len__(self) -> int:
        return len(self.segments)


SentencePairs = list[tuple[str, str]]


@dataclass
class Translation:
    """What a system returns for a list of sources: the hypotheses, in order, one per source, plus
    what the metrics and the run's provenance need to know about how they were made.

    Args:
        hyps: one hypothesis per source.
        sentence_pairs: per source, the (source sentence, translation) pairs a sentence-by-sentence
            system joined into its hypothesis; None for one sentence or a system without pairs.
        counters: events worth reporting, summed over the run (``sentences_split_further``: a sentence
            longer than the model's input limit was split at clause marks; ``outputs_length_capped``:
            an output filled ``max_new_tokens``).
    """

    hyps: list[str]
    sentence_pairs: list[SentencePairs | None] | None = None
    counters: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.sentence_pairs is None:
            self.sentence_pairs = [None] * len(self.hyps)
        elif len(self.sentence_pairs) != len(self.hyps):
            raise ValueError(f"{len(self.sentence_pairs)} sentence-pair lists for {len(self.hyps)} hypotheses")

    def __len__(self) -> int:
        return len(self.hyps)


@dataclass
class MetricResult:
    """A corpus score with its per-segment scores and the signature that makes it reproducible.

    ``segment_scores`` holds one float per scored segment, or None for segments the metric
    did not score (a reference-based metric on a segment without reference).
    ``segment_extra`` holds further per-segment fields, each a list aligned like ``segment_scores``
    (XCOMET's ``error_spans``); segments.jsonl stores field ``f`` of metric ``m`` as ``m_f``.
    """

    name: str
    score: float
    signature: str
    higher_is_better: bool = True
    segment_scores: list[float | None] | None = None
    n_scored: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    segment_extra: dict[str, list[Any]] | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {
            "score": self.score,
            "signature": self.signature,
            "higher_is_better": self.higher_is_better,
        }
        if self.n_scored is not None:
            out["n_scored"] = self.n_scored
        out.update(self.extra)
        return out


@dataclass
class RunResult:
    """Everything one run produced: the hypotheses and every metric's result."""

    dataset: str
    system: str
    corpus: Corpus
    hypotheses: list[str]
    metrics: dict[str, MetricResult]
    provenance: dict[str, Any] = field(default_factory=dict)
    #: per segment, the (source sentence, translation) pairs the system joined into its hypothesis,
    #: or None (one sentence, or a system that keeps no pairs); written to segments.jsonl.
    sentence_pairs: list[list[tuple[str, str]] | None] | None = None

    def scores_dict(self) -> dict[str, Any]:
        """The ``scores.json`` contract."""
        return {
            "dataset": self.dataset,
            "system": self.system,
            "direction": self.corpus.direction,
            "n_segments": len(self.corpus),
            "metrics": {name: m.to_dict() for name, m in self.metrics.items()},
            "corpus_summary": self.corpus.summary,
            "provenance": self.provenance,
        }

    def segment_rows(self) -> list[dict[str, Any]]:
        """One row per segment: id, src, refs, hyp and every segment score."""
        rows = []
        for i, (seg, hyp) in enumerate(zip(self.corpus.segments, self.hypotheses, strict=True)):
            row: dict[str, Any] = {
                "id": seg.id,
                "src": seg.src,
                "refs": list(seg.refs),
                "hyp": hyp,
                "doc_id": seg.doc_id,
                "domain": seg.domain,
                "origin": seg.origin,
            }
            if self.sentence_pairs is not None and self.sentence_pairs[i]:
                row["sentences"] = [list(p) for p in self.sentence_pairs[i]]
            for name, m in self.metrics.items():
                row[name] = None if m.segment_scores is None else m.segment_scores[i]
                for extra_field, values in (m.segment_extra or {}).items():
                    row[f"{name}_{extra_field}"] = values[i]
            rows.append(row)
        return rows
