"""WMT test sets in the WMT XML format (documents, domains, several references and systems)."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from mteval.data.limit import first
from mteval.data.provenance import file_digest
from mteval.data.userfile import read_bounded
from mteval.errors import InputError
from mteval.types import Corpus, Direction, Segment


def _segs(node: ET.Element) -> list[str]:
    return [(s.text or "") for s in node.iter("seg")]


def _parse(path: str) -> ET.Element:
    """The root of a bounded, regular XML file; a parse error names the file and line."""
    try:
        return ET.fromstring(read_bounded(path))
    except ET.ParseError as err:
        raise InputError(path, err.position[0], f"not well-formed XML: {err}") from None


def load_wmt_xml(
    *,
    name: str,
    path: str,
    direction: str,
    translators: list[str] | None = None,
    limit: int | None = None,
) -> Corpus:
    """Load a WMT XML test set (``wmttest2022.en-zh.all.xml``) with document ids and domains.

    Args:
        name: dataset name. path: the XML file.
        direction: the test set's direction (``en-zh``).
        translators: which references to use, by their ``translator`` attribute (e.g. ``[A]``);
            None takes every reference in the file.
        limit: keep the first ``limit`` segments.

    Segment ids are ``<doc id>:<seg id>``; segment order is file order, which matches the
    plain-text files WMT distributes beside the XML.
    """
    langs = Direction.parse(direction)
    root = _parse(path)
    segments: list[Segment] = []
    systems: set[str] = set()
    for doc in root.iter("doc"):
        doc_id = doc.get("id", "")
        src_node = doc.find("src")
        if src_node is None:
            raise InputError(path, None, f"document {doc_id!r} has no <src>")
        srcs = _segs(src_node)
        ref_nodes = [r for r in doc.findall("ref") if translators is None or r.get("translator") in translators]
        refs = [_segs(r) for r in ref_nodes]
        for r, node in zip(refs, ref_nodes, strict=True):
            if len(r) != len(srcs):
                raise InputError(path, None, f"document {doc_id!r}: reference {node.get('translator')} has "
                                             f"{len(r)} segments, source has {len(srcs)}")
        systems.update(h.get("system", "") for h in doc.findall("hyp"))
        for k, s in enumerate(srcs):
            segments.append(Segment(
                id=f"{doc_id}:{k + 1}", src=s, refs=[r[k] for r in refs if r[k].strip()],
                doc_id=doc_id, domain=doc.get("domain"), origin=f"{Path(path).name}:{doc_id}:{k + 1}",
            ))
    if not segments:
        raise InputError(path, None, "no <doc>/<seg> elements found")
    segments = first(segments, limit, path)
    domains: dict[str, int] = {}
    for seg in segments:
        domains[seg.domain or "none"] = domains.get(seg.domain or "none", 0) + 1
    return Corpus(
        name=name, src_lang=langs.src, tgt_lang=langs.tgt, segments=segments,
        summary={"segments": len(segments), "documents": len({s.doc_id for s in segments}),
                 "domains": domains, "with_reference": sum(1 for s in segments if s.refs),
                 "systems_in_file": len(systems)},
        provenance={"files": {path: file_digest(path)}, "translators": translators, "limit": limit},
    )


def read_wmt_hypotheses(path: str, system: str) -> list[str]:
    """The hypotheses of one submitted system from a WMT XML file, in segment order."""
    root = _parse(path)
    out: list[str] = []
    for doc in root.iter("doc"):
        hyp = [h for h in doc.findall("hyp") if h.get("system") == system]
        if not hyp:
            raise InputError(path, None, f"document {doc.get('id')!r} has no hypothesis from system {system!r}")
        out.extend(_segs(hyp[0]))
    return out
