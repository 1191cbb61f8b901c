"""``mteval-history``: each system's scores over the leaderboard's past runs, with breaks and gate decisions."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mteval.commands.pipes import quiet_on_closed_stdout
from mteval.errors import ConfigError, InputError, MtevalError, OutputError
from mteval.files import write_atomic
from mteval.locations import project_dir
from mteval.report.history import history_html, series_text
from mteval.results.gate_log import read_decisions
from mteval.results.history import build_series, read_leaderboard


class _Parser(argparse.ArgumentParser):
    """argparse that refuses with one line (exit 2) instead of usage text."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise ConfigError(f"{message} (see mteval-history --help)")


def parser() -> argparse.ArgumentParser:
    results = project_dir() / "results"
    p = _Parser(prog="mteval-history",
                description="Print each (test set, system, metric) series of scores from the leaderboard, oldest "
                            "first; runs are joined only while the metric's signature, segment count and references "
                            "per segment stay the same, and each break says what changed. Gate decisions recorded "
                            "with mteval-gate --history are marked on the runs they judged.")
    p.add_argument("--leaderboard", default=str(results / "leaderboard.csv"), help="default: %(default)s")
    p.add_argument("--gate-history", help="gate decisions CSV (default: gate-history.csv beside the leaderboard, "
                                          "when there is one)")
    p.add_argument("--dataset", help="only this dataset (the leaderboard's dataset column)")
    p.add_argument("--system", help="only this system")
    p.add_argument("--metric", help="only this metric")
    p.add_argument("--html", metavar="FILE", help="also write the trends as one self-contained HTML page")
    return p


def run(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    board = Path(args.leaderboard)
    if not board.is_file():
        raise InputError(board, None, "no leaderboard here (mteval runs write one; give --leaderboard FILE)")
    metrics, rows = read_leaderboard(board)
    if args.metric and args.metric not in metrics:
        raise ConfigError(f"--metric {args.metric}: {board} has no such column (it has: {', '.join(metrics) or 'none'})")
    gate_file = Path(args.gate_history) if args.gate_history else board.with_name("gate-history.csv")
    if args.gate_history and not gate_file.is_file():
        raise InputError(gate_file, None, "not found (mteval-gate --history FILE writes it)")
    decisions = read_decisions(gate_file) if gate_file.is_file() else []
    series = build_series(metrics, rows, decisions, dataset=args.dataset, system=args.system, metric=args.metric)
    if args.html:
        page = history_html(series, source=str(board), gate_source=str(gate_file) if decisions else None)
        try:
            write_atomic(args.html, page)
        except OSError as err:
            raise OutputError(f"--html {args.html}: cannot write: {err.strerror or err}") from None
    if not series:
        wanted = ", ".join(f"{k} {v}" for k, v in (("dataset", args.dataset), ("system", args.system),
                                                   ("metric", args.metric)) if v)
        print(f"no history: {board} has no scored runs" + (f" for {wanted}" if wanted else ""))
    else:
        print(series_text(series), end="")
    if args.html:
        print(f"trends: {args.html}")
    return 0


@quiet_on_closed_stdout("mteval-history")
def main(argv: list[str] | None = None) -> None:
    """Entry point: 0 printed, 2 with one line when the leaderboard or an option cannot be used."""
    try:
        code = run(argv)
    except MtevalError as err:
        print(f"mteval-history: error: {err}", file=sys.stderr)
        code = err.exit_code
    sys.exit(code)


if __name__ == "__main__":
    main()
