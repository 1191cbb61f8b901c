"""``mteval-gate``: compare a run with a committed baseline (exit 0 pass, 1 regression, 2 cannot compare)."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from mteval.errors import ConfigError, MtevalError
from mteval.provenance import ROOT

DEFAULT_CONFIG = ROOT / "conf" / "gate" / "default.yaml"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="mteval-gate",
        description="Fail CI on a real translation-quality regression: per metric, the current run must be worse "
                    "than the baseline by at least a minimum effect AND significantly (paired bootstrap). "
                    "Exit 0 pass, 1 regression, 2 cannot compare.",
    )
    p.add_argument("--baseline", help="baseline file (results/baselines/<name>.json)")
    p.add_argument("--current", help="run directory of the run to check (with scores.json and segments.jsonl)")
    p.add_argument("--config", default=str(DEFAULT_CONFIG), help="gate config YAML (default: %(default)s)")
    p.add_argument("--summary-md", help="write the Markdown summary here (e.g. \"$GITHUB_STEP_SUMMARY\", appended to)")
    p.add_argument("--junit", help="write JUnit XML here (one testcase per metric)")
    p.add_argument("--write-baseline", metavar="RUN_DIR", help="instead of gating, snapshot RUN_DIR as a baseline")
    p.add_argument("--out", help="with --write-baseline: the baseline file to write")
    p.add_argument("--metrics", help="with --write-baseline: comma-separated metrics to keep (default: all)")
    return p


def _write(path: str, text: str) -> None:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    # GitHub's step summary file collects every write of the step, so add to it rather than replace it.
    mode = "a" if os.environ.get("GITHUB_STEP_SUMMARY") == path else "w"
    with open(target, mode, encoding="utf-8") as f:
        f.write(text)


def run(argv: list[str] | None = None) -> int:
    """Parse arguments, gate or write a baseline, and return the exit status."""
    from mteval.gate.baseline import load_baseline, view_of_run, write_baseline
    from mteval.gate.decide import GateConfig, GateReport, decide
    from mteval.gate.junit import junit_xml
    from mteval.gate.summary import console, markdown

    parser = _parser()
    args = parser.parse_args(argv)
    if args.write_baseline:
        if not args.out:
            parser.error("--write-baseline needs --out")
        metrics = [m.strip() for m in args.metrics.split(",") if m.strip()] if args.metrics else None
        out = write_baseline(args.write_baseline, args.out, metrics=metrics)
        print(f"mteval-gate: wrote baseline {out} ({out.stat().st_size / 1e6:.2f} MB)")
        return 0
    if not args.baseline or not args.current:
        parser.error("--baseline and --current are required (or --write-baseline RUN_DIR --out FILE)")
    config = GateConfig.from_file(args.config)
    base = load_baseline(args.baseline)
    try:
        report = decide(base, view_of_run(args.current), config)
    except ConfigError:
        raise
    except MtevalError as err:  # the current run cannot be read or compared: a refusal, reported as such
        report = GateReport(baseline=base, current=None, config=config, refused=str(err))
    if args.summary_md:
        _write(args.summary_md, markdown(report))
    if args.junit:
        _write(args.junit, junit_xml(report))
    print(console(report))
    return report.exit_code


def main() -> None:
    """Entry point: exit with the gate's status; errors print one line and exit 2."""
    try:
        code = run()
    except MtevalError as err:
        print(f"mteval-gate: error: {err}", file=sys.stderr)
        code = err.exit_code
    sys.exit(code)


if __name__ == "__main__":
    main()
