"""``mteval-corpus``: read seed pages, pair EN/ZH versions of each abstract, write them and a summary.

``mteval-corpus fetch-originals``: fetch and confirm the arXiv originals of the Chinese blocks.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from mteval.commands.pipes import is_closed_pipe, log_to_stderr, quiet_on_closed_stdout
from mteval.errors import InputError, MtevalError
from mteval.data.pairing import DEFAULT_MIN_SCORE
from mteval.data.seeds import page_paths
from mteval.data.pairing import find_pairs
from mteval.data.seeds import read_pages
from mteval.data.summary import summarize_blocks
from mteval.files import write_atomic, write_json
from mteval.provenance import ROOT
from mteval.data.originals import originals_report, summary_line
from mteval.data.summary import format_summary


def _probability(text: str) -> float:
    value = float(text)
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1 (exclusive), got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface (kept apart so tests and docs can inspect it)."""

    parser = argparse.ArgumentParser(
        prog="mteval-corpus",
        description="Read seed pages, find the English and Chinese versions of the same abstract, "
        "write them as JSONL and print the corpus summary.",
    )
    parser.add_argument("pages", nargs="+", metavar="PAGE", help="a page file, or a directory of *.txt pages")
    parser.add_argument("--pairs-out", metavar="PAIRS.jsonl",
                        help="where to write one pair per line (without it, the blocks are listed with their ids)")
    parser.add_argument(
        "--min-score", type=_probability, default=DEFAULT_MIN_SCORE, metavar="X",
        help=f"keep pairs scoring at least X (default {DEFAULT_MIN_SCORE}: precision first)",
    )
    parser.add_argument("--summary-json", metavar="PATH", help="also write the summary as JSON")
    return parser


def expand_pages(args: Sequence[str]) -> list[Path]:
    """Files as given, directories as their sorted ``*.txt``; a missing path or empty directory is an error."""

    paths: list[Path] = []
    for arg in args:
        p = Path(arg)
        if p.is_dir():
            found = page_paths(p)
            if not found:
                raise InputError(p, None, "directory has no *.txt pages")
            paths.extend(found)
        elif p.exists():
            paths.append(p)
        else:
            raise InputError(p, None, "file not found")
    return paths


def run(*, pages: Sequence[str], pairs_out: str | None, min_score: float, summary_json: str | None,
        listing: list[str] | None = None) -> dict:
    """Read, pair, write (when ``pairs_out`` is given); returns the summary (with per-language unpaired counts).

    ``listing``, when given, receives one line per unique block: id, language, length and its opening words.
    """

    paths = expand_pages(pages)
    blocks = read_pages(paths)
    pairs = find_pairs(blocks, min_score=min_score)
    if pairs_out is not None:
        write_atomic(pairs_out, "".join(json.dumps(pair.to_json(), ensure_ascii=False) + "\n" for pair in pairs))
    if listing is not None:
        seen: set[str] = set()
        for b in blocks:
            if b.id not in seen:
                seen.add(b.id)
                opening = " ".join(b.text.split())[:60]
                listing.append(f"{b.id}\t{b.lang}\t{len(b.text)} chars\t{opening}")
    summary = summarize_blocks(blocks, n_pages=len(paths), n_pairs=len(pairs))
    paired = {b.id for p in pairs for b in (p.en, p.zh)}
    summary["unpaired"] = {
        lang: sum(1 for b in blocks if b.lang == lang and b.id not in paired) for lang in summary["by_lang"]
    }
    summary["min_score"] = min_score
    if summary_json:
        write_json(summary_json, summary)
    return summary


def build_fetch_parser() -> argparse.ArgumentParser:
    """``fetch-originals``: the arXiv originals of the mapped Chinese blocks, into the data cache."""

    parser = argparse.ArgumentParser(
        prog="mteval-corpus fetch-originals",
        description="Fetch from arXiv the English original of every Chinese block the id map names (every "
        "version; the newest is kept unless an earlier one pairs clearly better), cache them per id and version, "
        "and report which the pairing confirms. Exit 2 when arXiv cannot be reached (or MTEVAL_OFFLINE=1) for "
        "what is not cached, or its answer is refused.",
    )
    parser.add_argument("--pages", default=str(ROOT / "data" / "abstracts"),
                        help="seed pages (default: data/abstracts)")
    parser.add_argument("--id-map", default=str(ROOT / "data" / "abstracts" / "arxiv-ids.tsv"), metavar="TSV",
                        help="block_id -> arxiv_id (default: data/abstracts/arxiv-ids.tsv)")
    parser.add_argument("--cache", metavar="DIR", help="default: $MTEVAL_DATA/arxiv, else ~/.cache/mteval/arxiv")
    parser.add_argument("--min-score", type=_probability, default=DEFAULT_MIN_SCORE, metavar="X",
                        help=f"the pairing threshold a fetched original must reach (default {DEFAULT_MIN_SCORE})")
    return parser


def fetch_originals(argv: Sequence[str]) -> int:
    """Fetch, cache and confirm the originals; one line per mapped block, then the summary line."""

    args = build_fetch_parser().parse_args(argv)
    log_to_stderr(logging.WARNING, "%(levelname)s: %(message)s")
    per_block = logging.getLogger("mteval.data.originals")  # its per-block warnings are the lines printed below
    level, per_block.level = per_block.level, logging.ERROR
    try:
        report = originals_report(read_pages(expand_pages([args.pages])), args.id_map, cache=args.cache,
                                  min_score=args.min_score)
    except MtevalError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    finally:
        per_block.setLevel(level)
    for o in report.confirmed:
        print(f"{o.block_id}\t{o.versioned_id}\tconfirmed (pair score {o.score:.4f}, latest v{o.latest_version}): "
              f"{o.why}")
    for block, why in report.not_confirmed.items():
        print(f"{block}\t-\tleft out: {why}")
    for block, why in report.unavailable.items():
        print(f"{block}\t-\tnot available: {why}")
    asked = f"{report.requests} request(s) to arXiv" if report.requests else "arXiv not asked"
    print(f"cache: {report.cache} ({asked if report.reason or report.requests else 'all from cache, ' + asked})")
    if report.reason:
        print(f"error: {report.reason}; {report.hint}", file=sys.stderr)
        return 2
    print(summary_line(report))
    return 0


@quiet_on_closed_stdout("mteval-corpus")
def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (2 with a one-line message on bad input)."""

    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["fetch-originals"]:
        return fetch_originals(argv[1:])
    args = build_parser().parse_args(argv)
    log_to_stderr(logging.WARNING, "%(levelname)s: %(message)s")
    try:
        listing: list[str] | None = None if args.pairs_out else []
        summary = run(pages=args.pages, pairs_out=args.pairs_out, min_score=args.min_score,
                      summary_json=args.summary_json, listing=listing)
    except MtevalError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    except OSError as err:  # an unwritable output path, a page that vanished
        if is_closed_pipe(err):  # reported by quiet_on_closed_stdout
            raise
        print(f"error: {err}", file=sys.stderr)
        return 2
    if listing is not None:
        print("id\tlang\tlength\topening")
        print("\n".join(listing))
    print(format_summary(summary))
    unpaired = ", ".join(f"{n} {lang}" for lang, n in summary["unpaired"].items())
    where = f"written to {args.pairs_out}" if args.pairs_out else "found (write them with --pairs-out FILE)"
    print(f"pairs {where}: {summary['pairs']}; unpaired blocks: {unpaired}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
