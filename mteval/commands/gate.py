"""``mteval-gate``: compare a run with a committed baseline (exit 0 pass, 1 regression, 2 cannot compare).

Exit 1 means one thing, "compared, and worse": every other ending (bad arguments, unreadable or
malformed inputs, a refused comparison, an output that cannot be written, a closed stdout, even a
bug) is exit 2, so a CI job never reads a crash as a regression or a pass.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from pathlib import Path

from mteval.commands.pipes import is_closed_pipe, quiet_on_closed_stdout, stdout_closed
from mteval.errors import ConfigError, MtevalError, OutputError
from mteval.files import append_text, output_target, write_atomic
from mteval.locations import conf_dir
from mteval.gate.baseline import write_baseline
from mteval.gate.baseline import load_baseline, view_of_run
from mteval.gate.config import GateConfig
from mteval.gate.decide import GateReport, decide
from mteval.gate.junit import junit_xml
from mteval.gate.log import decisions
from mteval.results.gate_log import GateDecision, append_decisions
from mteval.gate.summary import STATUS, console, markdown

DEFAULT_CONFIG = conf_dir() / "gate.yaml"  # a file, not a config group: mteval itself does not use it


class _Parser(argparse.ArgumentParser):
    """argparse that refuses with one line (a ConfigError, exit 2) instead of usage text."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise ConfigError(f"{message} (see mteval-gate --help)")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="mteval-gate",
        description="Fail CI on a real translation-quality regression: per metric, the current run must be worse "
                    "than the baseline by at least a minimum effect AND significantly (paired bootstrap). "
                    "Exit 0 pass, 1 regression, 2 anything else (cannot compare, bad input, output not written).",
    )
    p.add_argument("--baseline", help="baseline file (from --write-baseline), or a finished run directory")
    p.add_argument("--current", help="run directory of the run to check (with scores.json and segments.jsonl)")
    p.add_argument("--config", default=str(DEFAULT_CONFIG), help="gate config YAML (default: %(default)s)")
    p.add_argument("--summary-md", help="write the Markdown summary here (e.g. \"$GITHUB_STEP_SUMMARY\", appended to)")
    p.add_argument("--junit", help="write JUnit XML here (one testcase per metric)")
    p.add_argument("--history", help="append the decision to this gate history CSV (e.g. results/gate-history.csv; "
                                     "mteval-history marks it on the trend)")
    p.add_argument("--write-baseline", metavar="RUN_DIR", help="instead of gating, snapshot RUN_DIR as a baseline")
    p.add_argument("--out", help="with --write-baseline: the baseline file to write")
    p.add_argument("--metrics", help="with --write-baseline: comma-separated metrics to keep (default: all)")
    return p


def check_writable(path: str, flag: str) -> None:
    """Refuse an output path that cannot be written, before any work (a passing gate must not fail late):
    a directory, a FIFO or device, a dangling symlink (see :mod:`mteval.files`), or no write permission."""
    target = Path(path)
    if target.is_dir():
        raise ConfigError(f"{flag} {path}: is a directory, expected a file path")
    try:
        target = output_target(target)
    except OutputError as err:
        raise ConfigError(f"{flag} {err}") from None
    except OSError as err:
        raise ConfigError(f"{flag} {path}: cannot write: {err.strerror or err}") from None
    parent = target.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise ConfigError(f"{flag} {path}: {parent} is a file, not a directory; give a writable path")
    # A file is replaced by a rename in its directory, so the directory must be writable; the step
    # summary is appended to, so the file must be.
    appended = os.environ.get("GITHUB_STEP_SUMMARY") == path and target.exists()
    if not os.access(target if appended else parent, os.W_OK if appended else os.W_OK | os.X_OK):
        raise ConfigError(f"{flag} {path}: not writable ({target if appended else parent} does not allow it); "
                          "give a writable path")


def _write(path: str, text: str, flag: str) -> None:
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        # GitHub's step summary file collects every write of the step, so add to it rather than replace it.
        if os.environ.get("GITHUB_STEP_SUMMARY") == path:
            append_text(path, text)
        else:
            write_atomic(path, text)
    except OutputError as err:
        raise OutputError(f"{flag} {err}") from None
    except OSError as err:
        raise OutputError(f"{flag} {path}: cannot write: {err.strerror or err}") from None


def _write_baseline(args: argparse.Namespace) -> int:

    if not args.out:
        raise ConfigError("--write-baseline needs --out FILE (see mteval-gate --help)")
    check_writable(args.out, "--out")
    metrics = [m.strip() for m in args.metrics.split(",") if m.strip()] if args.metrics else None
    try:
        out = write_baseline(args.write_baseline, args.out, metrics=metrics)
    except OutputError as err:
        raise OutputError(f"--out {err}") from None
    except OSError as err:
        raise OutputError(f"--out {args.out}: cannot write: {err.strerror or err}") from None
    _say(f"mteval-gate: wrote baseline {out} ({out.stat().st_size / 1e6:.2f} MB)", verdict=None)
    return 0


def _say(text: str, *, verdict: str | None) -> None:
    """Print to stdout now; a closed stdout (``| head``) is an output fault naming the verdict, not a crash."""
    try:
        print(text, flush=True)
    except BrokenPipeError:
        stdout_closed()  # the interpreter's final flush must not fail again at exit
        known = f"; the verdict was {verdict}" if verdict else ""
        raise OutputError(f"stdout was closed before the result was printed (broken pipe){known}; "
                          "read the verdict from the exit status, --junit or --summary-md") from None


def run(argv: list[str] | None = None) -> int:
    """Parse arguments, gate or write a baseline, and return the exit status."""

    args = _parser().parse_args(argv)
    if args.write_baseline:
        return _write_baseline(args)
    if not args.baseline or not args.current:
        raise ConfigError("--baseline and --current are required (or --write-baseline RUN_DIR --out FILE)")
    for path, flag in ((args.summary_md, "--summary-md"), (args.junit, "--junit"), (args.history, "--history")):
        if path:
            check_writable(path, flag)
    config = GateConfig.from_file(args.config)
    base = load_baseline(args.baseline)
    try:
        report = decide(base, view_of_run(args.current), config)
    except ConfigError as err:  # the config does not fit this baseline (a gated metric without min_effect)
        raise ConfigError(f"{args.config}: {err}") from None
    except MtevalError as err:  # the current run cannot be read or compared: a refusal, reported as such
        report = GateReport(baseline=base, current=None, config=config, refused=str(err))
    if args.summary_md:
        _write(args.summary_md, markdown(report), "--summary-md")
    if args.junit:
        _write(args.junit, junit_xml(report), "--junit")
    if args.history:
        _log(args.history, decisions(report, args.current, when=time.strftime("%Y-%m-%dT%H:%M:%S")))
    _say(console(report), verdict=STATUS[report.exit_code])
    return report.exit_code


def _log(path: str, rows: list[GateDecision]) -> None:
    """Append to the gate history; a failure there warns and leaves the verdict's exit status alone."""
    try:
        append_decisions(path, rows)
    except (MtevalError, OSError) as err:
        print(f"mteval-gate: warning: --history {path} not updated: {err}", file=sys.stderr)


@quiet_on_closed_stdout("mteval-gate")
def main(argv: list[str] | None = None) -> None:
    """Entry point: exit with the gate's status; every error prints one line and exits 2."""
    try:
        code = run(argv)
    except MtevalError as err:
        print(f"mteval-gate: error: {err}", file=sys.stderr)
        code = err.exit_code
    except KeyboardInterrupt:
        print("mteval-gate: error: interrupted", file=sys.stderr)
        code = 2
    except Exception as err:  # noqa: BLE001 - a bug must not read as a regression (1) or a pass (0)
        if is_closed_pipe(err):  # `--help | head -c0`: reported by quiet_on_closed_stdout, exit 2
            raise
        traceback.print_exc()
        print(f"mteval-gate: error: internal error ({type(err).__name__}: {err}); please report it", file=sys.stderr)
        code = 2
    sys.exit(code)


if __name__ == "__main__":
    main()
