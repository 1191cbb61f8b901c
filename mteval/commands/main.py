"""Command-line entry points; the only place that exits the process."""
from __future__ import annotations

import os
import sys
import traceback

from mteval.commands.config_check import (check_override_targets, expand_home_overrides, hydra_error_line,
                                          mteval_cause)
from mteval.commands.pipes import is_closed_pipe, quiet_on_closed_stdout, stdout_closed
from mteval.errors import MtevalError
from mteval import cores
from mteval.commands import run as run_command
from mteval.commands import sweep
from mteval.locations import conf_dir

__all__ = ["fail", "main", "mteval_cause"]

#: sacrebleu's flags that Hydra does not have (its -i is --info): a user typing the sacrebleu habit.
_SACREBLEU_FLAGS = {"-t", "-l", "-s", "-r", "--test-set", "--langpair"}


def fail(err: MtevalError) -> None:
    """Print one readable line and exit with the error's status (2)."""
    print(f"mteval: error: {err}", file=sys.stderr)
    sys.exit(err.exit_code)


@quiet_on_closed_stdout("mteval")
def main() -> None:
    """``mteval``: the Hydra app (``mteval --help`` lists the config groups).

    Exit status 0 when every run finished, 2 otherwise: a user error is one line; Hydra's own
    config errors (unknown option, missing value) are one line with the valid choices; a sweep
    runs every job and lists the failed ones at the end.
    """
    if _SACREBLEU_FLAGS & set(sys.argv[1:]):  # `mteval -t wmt22 -l en-zh -i hyp.zh` once met Hydra's --info error
        print("mteval: error: mteval takes Hydra overrides (dataset=... system=... 'metrics=[...]'); to score files "
              "with sacrebleu's flags use mteval-score, e.g. mteval-score -t wmt22 -l en-zh -i hyp.zh -m bleu chrf",
              file=sys.stderr)
        sys.exit(2)
    import hydra


    # An absolute path: run as an installed entry point, Hydra would read "../conf" as a module path.
    # The checkout's conf/ in an editable install, the wheel's copy otherwise.
    started = False  # an OSError before the job starts is Hydra creating the run dir or its log

    @hydra.main(version_base="1.3", config_path=str(conf_dir()), config_name="config")
    def _main(cfg):  # noqa: ANN001 - Hydra passes a DictConfig
        nonlocal started
        started = True
        in_sweep = sweep.in_sweep()
        if in_sweep:
            sweep.clear_job_error()
        try:
            with cores.running():  # concurrent runs split the machine's cores between them
                run_command.run(cfg)
        except Exception as err:  # noqa: BLE001 - only errors with an MtevalError behind them are handled
            if is_closed_pipe(err):  # the run's files are written; the CLI ends with exit 2 (pipes.py)
                stdout_closed()
                return
            # Hydra's instantiate wraps a loader's InputError in an InstantiationException.
            cause = mteval_cause(err)
            if in_sweep:  # keep going: the other jobs run, the sweep reports this one at the end
                line = str(cause) if cause is not None else hydra_error_line(err)
                if line is None:
                    traceback.print_exc()
                sweep.record_job_error(line or f"internal error ({type(err).__name__}: {err})")
                return
            if cause is None:
                raise
            fail(cause)

    # Hydra prints its errors over several lines (or a stripped traceback) and exits 1; with
    # HYDRA_FULL_ERROR it raises them instead, so they are reported here as one line, exit 2.
    os.environ["HYDRA_FULL_ERROR"] = "1"
    sys.argv[1:] = expand_home_overrides(sys.argv[1:])
    try:
        check_override_targets(sys.argv[1:])
    except MtevalError as err:
        fail(err)
    try:
        _main()
    except Exception as err:  # noqa: BLE001 - config errors become one line; anything else is a bug
        if is_closed_pipe(err):  # `mteval --help | head -c0`: reported by quiet_on_closed_stdout
            raise
        line = hydra_error_line(err)
        if line is None and isinstance(err, OSError) and not started:
            line = (f"cannot create the run directory or its log {err.filename or ''}: {err.strerror or err}; "
                    "give a writable hydra.run.dir (hydra.sweep.dir with -m) or results_dir")
        if line is None:
            traceback.print_exc()
            line = f"internal error ({type(err).__name__}: {err}); this is a bug, please report it with the traceback"
        print(f"mteval: error: {line}", file=sys.stderr)
        sys.exit(2)
    if sweep.FAILED:  # one line per distinct cause, with the count of jobs it failed
        for failure in sweep.FAILED:
            print(f"mteval: error: {failure}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
