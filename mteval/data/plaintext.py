"""Line-aligned plain-text corpora: one source file and one or more reference files."""
from __future__ import annotations

from pathlib import Path

from mteval import validate
from mteval.data.limit import first
from mteval.data.provenance import file_digest
from mteval.data.textfile import check_same_length, read_segments
from mteval.types import Corpus, Direction, Segment
from mteval.validate import SettingError


def load_files(
    *,
    name: str,
    src: str,
    refs: list[str] | None = None,
    direction: str,
    limit: int | None = None,
) -> Corpus:
    """Load a source file and reference files, segment ``i`` being line ``i`` of each.

    Args:
        name: dataset name in results.
        src: source file. refs: reference files (none for reference-free evaluation).
        direction: the corpus's direction (``en-zh``): the source and target languages, which
            choose the metrics' tokenisation (BLEU ``tok:zh`` for Chinese targets).
        limit: keep only the first ``limit`` segments (a slice for quick runs).

    Raises:
        InputError: unequal line counts, empty lines, undecodable bytes (with file and line).
    """
    if refs is not None and (not isinstance(refs, list) or not all(isinstance(r, str) and r for r in refs)):
        # A bare string would be read as a list of one-letter file names.
        raise SettingError("refs", refs, "must be a list of files, e.g. 'dataset.load.refs=[ref.zh]'")
    validate.integer("limit", limit, minimum=1, optional=True)
    langs = Direction.parse(direction)
    refs = list(refs or [])
    lines = {src: read_segments(src)}
    for r in refs:
        lines[r] = read_segments(r)
    check_same_length(lines, src)
    segments = [
        Segment(id=str(i + 1), src=s, refs=[lines[r][i] for r in refs], origin=f"{Path(src).name}:{i + 1}")
        for i, s in enumerate(lines[src])
    ]
    segments = first(segments, limit, src)
    return Corpus(
        name=name, src_lang=langs.src, tgt_lang=langs.tgt, segments=segments,
        summary={"segments": len(segments), "with_reference": len(segments) if refs else 0,
                 "references_per_segment": len(refs)},
        provenance={"files": {p: file_digest(p) for p in lines}, "limit": limit},
    )
