"""Test sets through Hugging Face ``datasets``: Hub ids (FLORES+, WMT24++, NTREX-128) or local files in the same schema.

Two layouts are read:
- *paired rows*: one row holds the source and its reference(s) (WMT24++: ``source``/``target``);
- *one config per language* (FLORES+: ``eng_Latn``, ``cmn_Hans``): the two languages' rows are
  joined on an id field, and a row missing on either side is an error, never dropped silently.
``datasets`` downloads once into its cache (``HF_HOME``/``HF_DATASETS_CACHE``) and honours
``HF_DATASETS_OFFLINE=1``; a local directory, Parquet or JSON Lines file is read the same way.
"""
from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

from mteval.data.limit import first
from mteval.data.textfile import field_problem
from mteval.data.userfile import check_bounded
from mteval.errors import ConfigError, DataUnavailableError, InputError
from mteval.types import Corpus, Direction, Segment

_FILE_BUILDERS = {".parquet": "parquet", ".jsonl": "json", ".json": "json", ".csv": "csv", ".tsv": "csv"}


def _hint() -> str:
    return (f"fetch it where the Hub is reachable with `mteval-prefetch` and this run's dataset overrides "
            f"(`make models MODELS=\"dataset=...\"`), or copy that machine's Hugging Face datasets cache "
            f"(~/.cache/huggingface/datasets) here and set HF_DATASETS_OFFLINE=1")


def _unavailable(path: str, config: str | None, err: Exception) -> DataUnavailableError:
    text = f"{type(err).__name__}: {err}"
    if "gated" in text.lower() or type(err).__name__ in ("GatedRepoError",):
        return DataUnavailableError(
            f"dataset '{path}' is gated on the Hugging Face Hub: accept its terms at "
            f"https://huggingface.co/datasets/{path} and set HF_TOKEN (or run `hf auth login`), then retry")
    first_line = text.strip().splitlines()[0][:300]
    if Path(path).expanduser().exists():
        return DataUnavailableError(f"{path}" + (f" (config {config})" if config else "")
                                    + f" could not be read as a dataset: {first_line}")
    return DataUnavailableError(f"dataset '{path}'" + (f" (config {config})" if config else "")
                                + f" could not be loaded ({first_line}): {_hint()}")


def open_split(path: str, config: str | None, split: str, revision: str | None = None) -> Any:
    """One split as a ``datasets.Dataset``: a Hub id, a ``save_to_disk`` folder, a dataset folder or a data file."""
    import datasets

    local = Path(path).expanduser()
    if local.exists() and not local.is_dir():
        check_bounded(local)  # a device or FIFO given as a data file is refused before datasets opens it
    try:
        if local.is_file():
            builder = _FILE_BUILDERS.get(local.suffix.lower())
            if builder is None:
                raise ConfigError(f"dataset.path={path}: unknown file type {local.suffix!r}; "
                                  f"use one of {', '.join(sorted(_FILE_BUILDERS))}")
            extra = {"delimiter": "\t"} if local.suffix.lower() == ".tsv" else {}
            # Local data is re-read every time: the datasets cache keys files by path and mtime, so an
            # edited file could otherwise come back as its old contents.
            return datasets.load_dataset(builder, data_files=str(local), split="train",
                                         download_mode="force_redownload", **extra)
        if local.is_dir() and ((local / "state.json").is_file() or (local / "dataset_dict.json").is_file()):
            loaded = datasets.load_from_disk(str(local))
            return loaded[split] if isinstance(loaded, datasets.DatasetDict) else loaded
        if local.is_dir():
            return datasets.load_dataset(str(local), config, split=split, download_mode="force_redownload",
                                         verification_mode="no_checks")
        return datasets.load_dataset(path, config, split=split, revision=revision)
    except (ConfigError, KeyboardInterrupt):
        raise
    except Exception as err:  # noqa: BLE001 - datasets raises many types; each becomes one line
        raise _unavailable(path, config, err) from None


def _column(rows: Any, field: str, where: str) -> list[Any]:
    if field not in rows.column_names:
        raise ConfigError(f"{where}: no field {field!r}; the rows have {', '.join(rows.column_names)}")
    return list(rows[field])


def _text(value: Any, where: str, row: int, field: str) -> str:
    """A text field of row ``row`` (1-based), checked as the plain-file loaders check a line."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InputError(where, row, f"field {field!r}: expected text, got {type(value).__name__} {value!r:.80}")
    problem = field_problem(value)
    if problem is not None:
        raise InputError(where, row, f"field {field!r} {problem}")
    return value


def _texts(values: list[Any], where: str, field: str) -> list[str]:
    return [_text(v, where, row, field) for row, v in enumerate(values, start=1)]


def _rows_by_id(ids: list[Any], where: str, field: str) -> dict[Any, int]:
    """id -> its row (1-based); an id on two rows is an error naming both (a join would pick one silently)."""
    rows: dict[Any, int] = {}
    for row, key in enumerate(ids, start=1):
        if key in rows:
            raise InputError(where, row, f"{field} {key!r} is also on row {rows[key]}; ids must be unique "
                                         "(which row's text would be the reference?)")
        rows[key] = row
    return rows


def load_hf(
    *,
    name: str,
    path: str,
    direction: str,
    split: str,
    config: str | None = None,
    revision: str | None = None,
    src_field: str = "source",
    ref_fields: list[str] | None = None,
    id_field: str | None = None,
    doc_field: str | None = None,
    domain_field: str | None = None,
    drop_field: str | None = None,
    src_config: str | None = None,
    tgt_config: str | None = None,
    join_field: str | None = "id",
    text_field: str = "text",
    limit: int | None = None,
) -> Corpus:
    """Load a test set through ``datasets``.

    Args:
        name: the dataset name in results. path: Hub id, local folder or data file.
        direction: the corpus's direction (``en-zh``). split: ``devtest``, ``train``, ...
        config: the Hub config of a paired-rows dataset (``en-zh_CN``). revision: a Hub commit or tag.
        src_field, ref_fields: paired rows: the source field and the reference field(s).
        id_field, doc_field, domain_field: optional fields for segment ids, documents and domains.
        drop_field: rows where this field is true are left out and counted (WMT24++ ``is_bad_source``).
        src_config, tgt_config: per-language layout: the two languages' configs (``eng_Latn``, ``cmn_Hans``),
            joined on ``join_field`` (None: by position, for line-aligned files), text in ``text_field``.
        limit: keep the first ``limit`` segments.
    """
    langs = Direction.parse(direction)
    if (src_config is None) != (tgt_config is None):
        raise ConfigError("dataset.load.src_config and tgt_config go together (one config per language)")
    if src_config is not None:
        rows, refs_by_row, where = _per_language(path, src_config, tgt_config, split, revision, join_field, text_field)
        src_field, ref_fields = text_field, ["ref"]
    else:
        where = f"{path}" + (f" ({config}, {split})" if config else f" ({split})")
        rows = open_split(path, config, split, revision)
        ref_fields = list(ref_fields if ref_fields is not None else ["target"])
        columns = [_texts(_column(rows, f, where), where, f) for f in ref_fields]
        refs_by_row = [list(vals) for vals in zip(*columns)] if ref_fields else [[] for _ in range(len(rows))]
    srcs = _texts(_column(rows, src_field, where), where, src_field)
    ids = [str(v) for v in _column(rows, id_field, where)] if id_field else [str(i + 1) for i in range(len(srcs))]
    docs = _column(rows, doc_field, where) if doc_field else [None] * len(srcs)
    domains = _column(rows, domain_field, where) if domain_field else [None] * len(srcs)
    dropped = [bool(v) for v in _column(rows, drop_field, where)] if drop_field else [False] * len(srcs)
    if id_field:
        _rows_by_id(ids, where, f"segment id (field {id_field})")
    segments = []
    for i, src in enumerate(srcs):
        if dropped[i]:
            continue
        if not src.strip():
            raise InputError(where, i + 1, f"row {ids[i]!r}: empty source text")
        segments.append(Segment(
            id=ids[i], src=src, refs=[r for r in refs_by_row[i] if r.strip()],  # blank = no reference, never text
            doc_id=None if docs[i] is None else str(docs[i]), domain=None if domains[i] is None else str(domains[i]),
            origin=f"{path}:{split}:{ids[i]}",
        ))
    segments = first(segments, limit, path)
    return Corpus(
        name=name, src_lang=langs.src, tgt_lang=langs.tgt, segments=segments,
        summary={"segments": len(segments), "with_reference": sum(1 for s in segments if s.refs),
                 "documents": len({s.doc_id for s in segments if s.doc_id}),
                 "domains": dict(Counter(s.domain or "none" for s in segments)),
                 **({f"left_out_{drop_field}": sum(dropped)} if drop_field else {})},
        provenance={"hf_dataset": {"path": path, "config": config, "src_config": src_config, "tgt_config": tgt_config,
                                   "split": split, "revision": revision, "fields": ref_fields,
                                   "datasets_version": _version()},
                    "content_sha256": _digest(segments), "limit": limit},
    )


def _per_language(path: str, src_config: str, tgt_config: str, split: str, revision: str | None,
                  join_field: str | None, text_field: str) -> tuple[Any, list[list[str]], str]:
    """Join two per-language configs on ``join_field`` (None: by position); keeps the source rows' order."""
    src_rows = open_split(path, src_config, split, revision)
    tgt_rows = open_split(path, tgt_config, split, revision)
    where = f"{path} ({src_config} + {tgt_config}, {split})"
    tgt_texts = _column(tgt_rows, text_field, f"{path} ({tgt_config})")
    if join_field is None:  # line-aligned files (NTREX-128's text layout): equal counts or nothing
        if len(tgt_texts) != len(src_rows):
            raise InputError(where, None, f"{src_config} has {len(src_rows)} rows but {tgt_config} has "
                                          f"{len(tgt_texts)}; line-aligned languages must have as many")
        return src_rows, [[t] for t in _texts(tgt_texts, f"{path} ({tgt_config}, {split})", text_field)], where
    src_where, tgt_where = f"{path} ({src_config}, {split})", f"{path} ({tgt_config}, {split})"
    src_ids = _column(src_rows, join_field, src_where)
    tgt_ids = _column(tgt_rows, join_field, tgt_where)
    _rows_by_id(src_ids, src_where, join_field)
    tgt_row = _rows_by_id(tgt_ids, tgt_where, join_field)
    tgt_texts = _texts(tgt_texts, tgt_where, text_field)
    missing = [i for i in src_ids if i not in tgt_row]
    extra = set(tgt_ids) - set(src_ids)
    if missing or extra:
        raise InputError(where, None, f"the two languages' rows differ: {len(missing)} {src_config} ids have no "
                                      f"{tgt_config} row (first {missing[:3]}), {len(extra)} the other way")
    return src_rows, [[tgt_texts[tgt_row[i] - 1]] for i in src_ids], where


def _digest(segments: list[Segment]) -> str:
    h = hashlib.sha256()
    for s in segments:
        h.update(json.dumps([s.id, s.src, s.refs], ensure_ascii=False).encode("utf-8"))
    return "sha256:" + h.hexdigest()


def _version() -> str:
    import datasets

    return datasets.__version__
