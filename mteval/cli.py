"""Command-line entry points; the only place that exits the process."""
from __future__ import annotations

import sys

from mteval.errors import MtevalError


def fail(err: MtevalError) -> None:
    """Print one readable line and exit with the error's status (2)."""
    print(f"mteval: error: {err}", file=sys.stderr)
    sys.exit(err.exit_code)


def mteval_cause(err: BaseException) -> MtevalError | None:
    """The MtevalError that ``err`` is or was raised from (following ``__cause__``/``__context__``)."""
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        if isinstance(current, MtevalError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def main() -> None:
    """``mteval``: the Hydra app (``mteval --help`` lists the config groups)."""
    import hydra

    from mteval.app import run
    from mteval.provenance import ROOT

    # An absolute path: run as an installed entry point, Hydra would read "../conf" as a module path.
    # Installs that are not editable pass --config-path (see README).
    @hydra.main(version_base="1.3", config_path=str(ROOT / "conf"), config_name="config")
    def _main(cfg):  # noqa: ANN001 - Hydra passes a DictConfig
        try:
            run(cfg)
        except Exception as err:  # noqa: BLE001 - only errors with an MtevalError behind them are handled
            # Hydra's instantiate wraps a loader's InputError in an InstantiationException.
            cause = mteval_cause(err)
            if cause is None:
                raise
            fail(cause)

    _main()


if __name__ == "__main__":
    main()
