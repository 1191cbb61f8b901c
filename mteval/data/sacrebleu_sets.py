"""Any test set in sacrebleu's registry as a Corpus: ``dataset=sacrebleu dataset.test_set=wmt23 dataset.langpair=en-zh``."""
from __future__ import annotations

from collections import Counter

from mteval.data.limit import first
from mteval.data.provenance import file_digest
from mteval.data.sacrebleu_cache import entry, raw_files, read_fields, read_lines
from mteval.errors import ConfigError
from mteval.types import Corpus, Direction, Segment

# Fields sacrebleu reports beside src and the references; every other field of a WMT XML
# release is a submitted system's output.
META_FIELDS = ("src", "docid", "origlang", "domain", "genre")


def reference_fields(fields: list[str]) -> dict[str, str]:
    """Translator name -> field (``ref:A`` -> ``A``; a lone ``ref`` -> ``""``), sorted by name.

    Sorted because sacrebleu collects translators in a set, whose order changes between processes;
    the first reference is the one single-reference metrics (COMET) read.
    """
    found = {f.split(":", 1)[1] if ":" in f else "": f for f in fields if f == "ref" or f.startswith("ref:")}
    return dict(sorted(found.items()))


def submissions(fields: list[str]) -> list[str]:
    """The submitted systems whose outputs a release carries (WMT21 and later)."""
    return sorted(f for f in fields if f not in META_FIELDS and f not in reference_fields(fields).values())


def choose_references(ds, langpair: str, fields: list[str], translators: list[str] | str | None) -> list[str]:
    """The reference fields to score against.

    ``None``: the references sacrebleu itself uses for this pair (``sacrebleu -t X -l Y``);
    ``"all"``: every reference; a list: those translators, in that order.
    """
    by_name = reference_fields(fields)
    if translators is None:
        # sacrebleu's get_reference_files, read from the registry entry instead of parsing the release
        # again: WMT XML sets name their allowed references per pair; older formats use every one.
        allowed = getattr(ds, "_get_langpair_allowed_refs", None)
        return list(by_name.values()) if allowed is None else [f for f in by_name.values() if f in allowed(langpair)]
    if translators == "all":
        return list(by_name.values())
    if isinstance(translators, str):
        translators = [translators]
    unknown = [t for t in translators if str(t) not in by_name]
    if unknown:
        raise ConfigError(f"dataset.load.translators: {', '.join(map(str, unknown))} not in {ds.name} {langpair}; "
                          f"its references: {', '.join(repr(t) for t in by_name) or 'none'} (or `all`)")
    return [by_name[str(t)] for t in translators]


def load_sacrebleu(
    *,
    name: str,
    test_set: str,
    langpair: str,
    translators: list[str] | str | None = None,
    cache_dir: str | None = None,
    limit: int | None = None,
) -> Corpus:
    """Load ``test_set``/``langpair`` through sacrebleu, downloading the release once into its cache.

    Args:
        name: the dataset name in results.
        test_set, langpair: as ``sacrebleu -t`` and ``-l`` take them (``wmt22``, ``en-zh``).
        translators: references by translator (``[A]``, ``[A, B]``, ``all``); None = sacrebleu's default.
        cache_dir: the sacrebleu cache (None: ``$SACREBLEU``, else ``~/.sacrebleu``).
        limit: keep the first ``limit`` segments.

    Segment ids are ``<docid>:<n>`` (n counts the document's segments from 1) where the release
    has document ids, else the 1-based line number. Domains come from ``domain`` (WMT XML) or
    ``genre`` (older SGML releases); the original language is kept in ``meta["origlang"]``.

    Raises:
        ConfigError: an unknown test set, pair or translator.
        DataUnavailableError: not cached and not downloadable (offline).
    """
    ds = entry(test_set, langpair, cache_dir)
    files = read_fields(ds, langpair)
    refs = choose_references(ds, langpair, list(files), translators)
    text = {f: read_lines(files[f]) for f in ["src", *refs, *(m for m in META_FIELDS[1:] if m in files)]}
    n = len(text["src"])
    for field, lines in text.items():
        if len(lines) != n:
            raise ConfigError(f"{files[field]}: {len(lines)} lines but the source has {n}; the sacrebleu cache "
                              f"looks damaged: delete {ds._outdir} and fetch {test_set} again")
    langs = Direction.parse(langpair, "langpair")
    src_lang, tgt_lang = langs.src, langs.tgt
    domains = text.get("domain") or text.get("genre")
    per_doc: Counter[str] = Counter()
    segments = []
    for i, src in enumerate(text["src"]):
        doc = text["docid"][i] if "docid" in text else None
        if doc is not None:
            per_doc[doc] += 1
        segments.append(Segment(
            id=f"{doc}:{per_doc[doc]}" if doc is not None else str(i + 1), src=src,
            refs=[text[r][i] for r in refs if text[r][i].strip()], doc_id=doc,
            domain=(domains[i] or None) if domains else None, origin=f"sacrebleu:{test_set}:{langpair}:{i + 1}",
            meta={"origlang": text["origlang"][i]} if "origlang" in text else {},
        ))
    segments = first(segments, limit, f"{test_set}:{langpair}")
    return Corpus(
        name=name, src_lang=src_lang, tgt_lang=tgt_lang, segments=segments,
        summary=_summary(segments, refs, submissions(list(files))),
        provenance=_provenance(ds, langpair, refs, limit),
    )


def _summary(segments: list[Segment], refs: list[str], systems: list[str]) -> dict:
    return {
        "segments": len(segments), "documents": len({s.doc_id for s in segments if s.doc_id}),
        "domains": dict(Counter(s.domain or "none" for s in segments)),
        "original_language": dict(Counter(s.meta.get("origlang") or "unknown" for s in segments)),
        "with_reference": sum(1 for s in segments if s.refs),
        "references": [r.split(":", 1)[-1] for r in refs], "systems_in_test_set": len(systems),
    }


def _provenance(ds, langpair: str, refs: list[str], limit: int | None) -> dict:
    import sacrebleu

    # The digest names the release's content; the URL and md5 are sacrebleu's registry entry.
    return {
        "sacrebleu": {"test_set": ds.name, "langpair": langpair, "version": sacrebleu.__version__,
                      "url": list(ds.data), "md5": list(ds.md5 or [])},
        "files": {f"{ds.name}/raw/{p.relative_to(ds._rawdir)}": file_digest(p) for p in raw_files(ds, langpair)},
        "translators": [r.split(":", 1)[-1] for r in refs], "limit": limit,
    }
