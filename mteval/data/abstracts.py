"""The abstracts dataset: seed pages -> deduped blocks -> EN/ZH pairs, arXiv originals, user references -> Corpus."""
from __future__ import annotations

import logging
from pathlib import Path

from mteval import validate
from mteval.data.jsonl import references_by_id
from mteval.data.limit import first
from mteval.data.provenance import file_digest, text_digest
from mteval.data.seeds import page_paths, read_pages
from mteval.data.summary import summarize_blocks
from mteval.errors import InputError
from mteval.types import Corpus, Direction, Segment
from mteval.data.pairing import find_pairs as pair_blocks
from mteval.data.originals import originals_report
from mteval.data.originals import describe

log = logging.getLogger(__name__)


def load_abstracts(
    *,
    name: str,
    pages: str,
    direction: str = "en-zh",
    references: str | None = None,
    find_pairs: bool = True,
    min_pair_score: float | None = None,
    arxiv_ids: str | None = None,
    arxiv_cache: str | None = None,
    fetch_originals: bool = True,
    require_originals: bool = False,
    limit: int | None = None,
) -> Corpus:
    """Read seed pages and build a corpus whose sources are the blocks in the source language.

    Each source gets references from (1) the other-language block of the same paper when the
    pairing finds one and (2) a user references file (JSONL with ``id`` = block id and ``ref``).
    Blocks are never paired by position. With an arXiv id map, each mapped Chinese block the pages
    leave unpaired gets its English original from arXiv (cached), kept only when the pairing
    confirms it: en-zh adds the original as a source with the Chinese block as its reference,
    zh-en gives the Chinese block the original as its reference. Sources with no reference stay
    in the corpus and are scored reference-free only.

    Args:
        name: dataset name. pages: a directory of ``*.txt`` pages, a glob, or one file.
        direction: ``en-zh`` (English blocks are sources) or ``zh-en``.
        references: optional JSONL of references keyed by block id.
        find_pairs: look for EN/ZH versions of the same paper among the blocks.
        min_pair_score: pairing threshold (None: the pairing module's precision-first default).
        arxiv_ids: TSV of ``block_id``/``arxiv_id`` (None: the pages alone).
        arxiv_cache: where fetched abstracts are kept (None: ``$MTEVAL_DATA/arxiv``, else ``~/.cache/mteval/arxiv``).
        fetch_originals: fetch what the cache lacks from arXiv (false: the cache only).
        require_originals: raise DataUnavailableError when arXiv cannot be reached (prefetch) instead
            of going on with what the cache has.
        limit: keep the first ``limit`` sources.
    """
    validate.boolean("find_pairs", find_pairs)
    if min_pair_score is not None:  # the pairing's threshold is a probability strictly inside (0, 1)
        validate.number("min_pair_score", min_pair_score, above=0, below=1)
    validate.boolean("fetch_originals", fetch_originals)
    validate.boolean("require_originals", require_originals)
    validate.integer("limit", limit, minimum=1, optional=True)
    langs = Direction.parse(direction)
    src_lang, tgt_lang = langs.src, langs.tgt
    if {src_lang, tgt_lang} != {"en", "zh"}:
        raise InputError(pages, None, f"direction must be en-zh or zh-en, not {direction!r}")
    paths = page_paths(pages)
    if not paths:
        raise InputError(pages, None, "no seed pages found (expected *.txt files)")
    blocks = read_pages(paths)
    refs: dict[str, list[str]] = {b.id: [] for b in blocks}
    meta: dict[str, dict] = {b.id: {"count": b.count, "truncated": b.truncated, "ref_source": None}
                             for b in blocks}
    n_pairs = 0
    paired: set[str] = set()
    pair_kwargs = {} if min_pair_score is None else {"min_score": min_pair_score}
    if find_pairs:

        for p in pair_blocks(blocks, **pair_kwargs):
            src_block, tgt_block = (p.en, p.zh) if src_lang == "en" else (p.zh, p.en)
            refs[src_block.id].append(tgt_block.text)
            meta[src_block.id].update(ref_source="pair", pair_with=tgt_block.id, pair_score=round(p.score, 4))
            paired |= {p.en.id, p.zh.id}
            n_pairs += 1
    report = None
    if arxiv_ids:

        # Blocks the pages already pair need no original.
        report = originals_report(blocks, arxiv_ids, skip=paired, cache=arxiv_cache, fetch=fetch_originals,
                                  require=require_originals, min_score=pair_kwargs.get("min_score"))
    originals = {o.block_id: o for o in report.confirmed} if report else {}
    n_user = 0
    if references:
        by_id = {b.id: b for b in blocks}
        for seg_id, (user_refs, line) in references_by_id(references).items():
            block = by_id.get(seg_id)
            if block is None or block.lang != src_lang:
                raise InputError(references, line, f"id {seg_id!r} is not one of the pages' {src_lang} blocks")
            if not refs[seg_id]:
                n_user += 1
            refs[seg_id].extend(user_refs)
            meta[seg_id]["ref_source"] = "user" if meta[seg_id]["ref_source"] is None else "pair+user"
    segments = []
    for b in blocks:  # page order; an original stands where its Chinese block does
        o = originals.get(b.id)
        if b.lang == src_lang:
            seg = Segment(id=b.id, src=b.text, refs=refs[b.id], origin=str(b.origins[0]), meta=meta[b.id])
            if o is not None:  # zh-en: the Google Chinese is the source, the arXiv original its reference
                seg.refs.insert(0, o.text)
                seg.doc_id = f"arXiv:{o.versioned_id}"
                seg.meta.update(ref_source="arxiv" if seg.meta["ref_source"] is None else "arxiv+user",
                                **o.to_json(), source_is="Google Translate output")
            segments.append(seg)
        elif o is not None:  # en-zh: the arXiv original is the source, the Google Chinese its reference
            segments.append(Segment(id=f"arxiv:{o.versioned_id}", src=o.text, refs=[b.text],
                                    doc_id=f"arXiv:{o.versioned_id}", origin=f"https://arxiv.org/abs/{o.versioned_id}",
                                    meta={"ref_source": "arxiv", "reference_is": "Google Translate output",
                                          "truncated_reference": b.truncated, **o.to_json()}))
    summary = summarize_blocks(blocks, n_pages=len(paths), n_pairs=n_pairs, n_user_refs=n_user, direction=direction)
    with_ref = sum(1 for s in segments if s.refs)
    summary.update(sources=len(segments), sources_with_reference=with_ref, with_reference=with_ref,
                   sources_without_reference=len(segments) - with_ref)
    if report is not None:

        summary["arxiv_originals"] = describe(report, direction=direction, id_map=arxiv_ids)
        # The run says in one line why it has fewer references than mapped blocks, or shorter ones.
        worry = report.reason or report.unavailable or any(o.reference_short for o in report.confirmed)
        log.log(logging.WARNING if worry else logging.INFO, "%s", summary["arxiv_originals"]["line"])
        summary["note"] = summary["arxiv_originals"].pop("note")
    segments = first(segments, limit, pages)
    files = {str(p): file_digest(p) for p in paths}
    if references:
        files[references] = file_digest(references)
    if arxiv_ids:
        files[arxiv_ids] = file_digest(arxiv_ids)
    return Corpus(name=name, src_lang=src_lang, tgt_lang=tgt_lang, segments=segments, summary=summary,
                  provenance={"files": files, "pages": [Path(p).name for p in paths],
                              **({"arxiv": {o.versioned_id: text_digest(o.text) for o in originals.values()}}
                                 if report else {})})
