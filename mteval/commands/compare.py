"""``mteval-compare RUN_DIR_OR_SWEEP_DIR...``: the comparison table, printed and saved with the report."""
from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path
from typing import Any

from mteval.commands.pipes import log_to_stderr, quiet_on_closed_stdout
from mteval.errors import MtevalError, OutputError
from mteval.files import json_text, write_atomic
from mteval.locations import project_dir
from mteval.compare.comparison import DOC_AR, DOC_BOOTSTRAP, compare_runs
from mteval.compare.load import load_runset, select_metrics
from mteval.compare.segstats import default_jobs
from mteval.compare.table import flagged_segments, record, summary_frame
from mteval.text.escape import csv_safe_frame
from mteval.report.markdown import markdown_report
from mteval.compare.human import align_human, read_human
from mteval.compare.agreement import agree_with_humans
from mteval.report.human import agreement_frame
from mteval.report.html import html_report


def _seed(text: str) -> int | None:
    return None if text.lower() == "none" else int(text)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="mteval-compare",
        description="Compare finished mteval runs on the same dataset: scores, 95% bootstrap intervals, paired "
                    "bootstrap and approximate-randomisation p-values against a baseline and between every two "
                    "systems (Holm-corrected), rank clusters, where the metrics' rankings disagree, the tests "
                    "against the baseline per domain and per document, output checks; "
                    "writes table.csv, results.json, checks.csv, report.md and report.html. With --human, also "
                    "each metric's agreement with human scores (system- and segment-level correlations, "
                    "pairwise accuracy) in the report and agreement.csv.")
    p.add_argument("runs", nargs="+", metavar="RUN_DIR", help="run dirs, or sweep dirs holding run dirs")
    p.add_argument("--baseline", help="system the paired tests compare against (default: the first run)")
    p.add_argument("--metrics", help="comma-separated metrics (default: every metric all runs have)")
    p.add_argument("--n-bootstrap", type=int, default=1000, help="bootstrap resamples (default: %(default)s)")
    p.add_argument("--n-ar", type=int, default=10000,
                   help="approximate-randomisation trials, 0 to skip (default: %(default)s, as sacrebleu)")
    p.add_argument("--seed", type=_seed, default=12345, help="random seed, or 'none' (default: %(default)s)")
    p.add_argument("--doc-bootstrap", type=int, default=DOC_BOOTSTRAP,
                   help="bootstrap resamples per document, 0 to leave documents out (default: %(default)s)")
    p.add_argument("--doc-ar", type=int, default=DOC_AR,
                   help="randomisation trials per document, at most --n-ar (default: %(default)s)")
    p.add_argument("--alpha", type=float, default=0.05, help="significance level (default: %(default)s)")
    p.add_argument("--jobs", type=int, default=None, help="processes for statistics (default: the CPUs)")
    p.add_argument("--worst", type=int, default=5, help="worst segments per system in the report (default: 5)")
    p.add_argument("--out", help="output dir (default: SWEEP_DIR/compare for one sweep dir, SWEEP_DIR/compare-<time> "
                                 "when that holds a comparison already; else results/compare/<time>)")
    p.add_argument("--human", action="append", metavar="FILE",
                   help="human scores to meta-evaluate the metrics against (CSV/TSV system,score[,segment], or a "
                        "WMT DA ad-sys-scores / ad-seg-scores file); repeat for a system and a segment file")
    p.add_argument("--human-segments", choices=("id", "line"),
                   help="what a human file's segment column holds: the runs' segment ids (default for CSV/TSV) "
                        "or 1-based test-set line numbers (required to use WMT DA SIDs)")
    p.add_argument("--pairs", action="store_true",
                   help="also print every pair's matrices per metric (difference, p-values, segment wins/ties/losses; "
                        "report.md and report.html always have them)")
    p.add_argument("--no-report", action="store_true", help="print and save the table only, no HTML")
    p.add_argument("-v", "--verbose", action="store_true", help="log progress")
    return p


def default_out(runs: list[str]) -> Path:
    """A directory of its own: ``SWEEP_DIR/compare`` for one sweep dir, ``compare-<time>`` beside it once that
    holds a comparison (a plain `make compare` once overwrote meta-demo's report, human section and all);
    ``results/compare/<time>`` for several runs."""

    stamp = time.strftime("%Y-%m-%d_%H-%M-%S")
    if len(runs) == 1 and not (Path(runs[0]) / "scores.json").is_file():
        out = Path(runs[0]) / "compare"
        if not (out / "results.json").exists():
            return out
        out = out.with_name(f"compare-{stamp}")
    else:
        out = project_dir() / "results" / "compare" / stamp
    n = 1
    while out.exists():  # two comparisons in the same second
        n += 1
        out = out.with_name(f"{out.name.split('+')[0]}+{n}")
    return out


def run(args: argparse.Namespace) -> Path:
    """Load, compare, print the Markdown table, write the outputs; returns the output dir."""

    for name, value, low in (("--n-bootstrap", args.n_bootstrap, 1), ("--n-ar", args.n_ar, 0),
                             ("--doc-bootstrap", args.doc_bootstrap, 0), ("--doc-ar", args.doc_ar, 0)):
        if value < low:
            raise MtevalError(f"{name} must be at least {low}, got {value}")
    runset = load_runset(args.runs)
    requested = [m.strip() for m in args.metrics.split(",") if m.strip()] if args.metrics else None
    metrics = select_metrics(runset.runs, requested)
    human = None
    if args.human:  # read and matched before any statistics, so a bad file stops the command at once

        human = align_human(read_human(args.human), runset, segment_key=args.human_segments)
    elif args.human_segments:
        raise MtevalError("--human-segments needs --human FILE")
    comp = compare_runs(runset, metrics, baseline=args.baseline, n_bootstrap=args.n_bootstrap, n_ar=args.n_ar,
                        seed=args.seed, alpha=args.alpha, jobs=args.jobs or default_jobs(),
                        doc_bootstrap=args.doc_bootstrap, doc_ar=args.doc_ar)
    if human is not None:

        comp.agreement = agree_with_humans(comp, human)
    out = Path(args.out) if args.out else default_out(args.runs)
    html_path = None if args.no_report else out / "report.html"
    text = markdown_report(comp, html_path=str(html_path) if html_path else None)
    # System names and hypotheses are user text: a cell starting with "=" must not run in a spreadsheet.
    files: list[tuple[str, Any]] = [
        ("table.csv", lambda tmp: csv_safe_frame(summary_frame(comp)).to_csv(tmp, index=False)),
        ("checks.csv", lambda tmp: csv_safe_frame(flagged_segments(comp)).to_csv(tmp, index=False)),
    ]
    if comp.agreement is not None:

        files.append(("agreement.csv", lambda tmp: agreement_frame(comp.agreement).to_csv(tmp, index=False)))
    files.append(("results.json", json_text(record(comp))))
    if html_path is not None:

        files.append(("report.html", html_report(comp, worst=args.worst)))
    files.append(("report.md", text))
    name = str(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name, content in files:
            write_atomic(out / name, content)
    except OSError as err:
        raise OutputError(f"--out {out}: cannot write {name}: {err.strerror or err}") from None
    print(text if args.pairs else markdown_report(comp, html_path=str(html_path) if html_path else None, pairs=False),
          end="")
    print(f"outputs: {out}")
    return out


@quiet_on_closed_stdout("mteval-compare")
def main(argv: list[str] | None = None) -> None:
    """Entry point; an error the user can act on prints one line and exits 2."""
    args = parser().parse_args(argv)
    log_to_stderr(logging.INFO if args.verbose else logging.WARNING, "%(asctime)s %(name)s: %(message)s")
    try:
        run(args)
    except MtevalError as err:
        print(f"mteval-compare: error: {err}", file=sys.stderr)
        sys.exit(err.exit_code)


if __name__ == "__main__":
    main()
