"""Command-line entry points; the only place that exits the process."""
from __future__ import annotations

import sys

from mteval.errors import MtevalError


def fail(err: MtevalError) -> None:
    """Print one readable line and exit with the error's status (2)."""
    print(f"mteval: error: {err}", file=sys.stderr)
    sys.exit(err.exit_code)


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
        except MtevalError as err:
            fail(err)

    _main()


if __name__ == "__main__":
    main()
