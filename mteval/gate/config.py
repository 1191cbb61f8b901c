"""The gate's settings (``conf/gate.yaml``), refused when any value could switch the gate off."""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mteval.data.userfile import read_text
from mteval.errors import ConfigError, InputError

#: The counts matrix holds n_resamples x n_segments float64 (about 330 MB for WMT22 at this cap).
MAX_RESAMPLES = 20_000
_ALLOWED = ("alpha", "metrics", "min_effect", "n_resamples", "seed")


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        hint = " (YAML reads a number without a '.', such as 5e-2, as text: write 0.05)" if _numeric(value) else ""
        raise ConfigError(f"{name} must be a number, got {value!r}{hint}")
    if not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number, got {value}: a NaN or infinite threshold "
                          "would switch the gate off")
    return float(value)


def _numeric(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return isinstance(value, str)


def _integer(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name} must be a whole number, got {value!r}")
    return value


@dataclass(frozen=True)
class GateConfig:
    """Settings of one gate, checked when built (from YAML or in code).

    Args:
        min_effect: per metric, the smallest worsening (in the metric's units, >= 0) that may fail
            the gate; a drop smaller than this passes however significant.
        alpha: significance level of the one-sided paired test, in (0, 1).
        n_resamples: bootstrap resamples; enough that the smallest p-value the test can give,
            1 / (n_resamples + 1), is below ``alpha`` (else no drop could ever fail the gate).
        seed: bootstrap seed (fixed, so a verdict is repeatable).
        metrics: which metrics to gate; None gates every metric of the baseline.

    Raises:
        ConfigError: naming the setting, the value and why it is refused.
    """

    min_effect: dict[str, float]
    alpha: float = 0.05
    n_resamples: int = 1000
    seed: int = 12345
    metrics: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.min_effect, dict):
            raise ConfigError(f"min_effect must be a mapping of metric name to a minimum drop, "
                              f"got {self.min_effect!r}")
        for name, value in self.min_effect.items():
            if _number(f"min_effect.{name}", value) < 0:
                raise ConfigError(f"min_effect.{name} must be >= 0 (the size of a drop; the direction comes "
                                  f"from the metric), got {value}")
        alpha = _number("alpha", self.alpha)
        if not 0 < alpha < 1:
            raise ConfigError(f"alpha must be strictly between 0 and 1, got {alpha:g}")
        n = _integer("n_resamples", self.n_resamples)
        if not 1 <= n <= MAX_RESAMPLES:
            raise ConfigError(f"n_resamples must be between 1 and {MAX_RESAMPLES}, got {n}")
        if 1 / (n + 1) >= alpha:
            need = max(n + 1, int(1 / alpha) - 1)
            while 1 / (need + 1) >= alpha:  # the smallest count whose smallest p-value is below alpha
                need += 1
            fix = (f"use at least {need} (1000 recommended)" if need <= MAX_RESAMPLES else
                   f"alpha={alpha:g} needs more than the {MAX_RESAMPLES} resamples allowed: raise alpha")
            raise ConfigError(f"n_resamples={n} can never fail the gate: the smallest p-value it can give is "
                              f"1/{n + 1} = {1 / (n + 1):.3g}, not below alpha={alpha:g}; {fix}")
        if _integer("seed", self.seed) < 0:
            raise ConfigError(f"seed must be >= 0, got {self.seed}")
        if self.metrics is not None:
            bad = [m for m in self.metrics if not isinstance(m, str) or not m]
            if not self.metrics or bad or len(set(self.metrics)) != len(self.metrics):
                raise ConfigError(f"metrics must be null or a non-empty list of distinct metric names, "
                                  f"got {list(self.metrics)!r}")

    @classmethod
    def from_file(cls, path: str | Path) -> GateConfig:
        """Read a gate YAML; unknown keys, wrong types and values that disable the gate are ConfigErrors
        naming the file."""
        import yaml

        try:
            data = yaml.safe_load(read_text(path, missing="gate config not found"))
        except InputError as err:
            raise ConfigError(str(err)) from None
        except yaml.YAMLError as err:
            raise ConfigError(f"{path}: not valid YAML: {' '.join(str(err).split())}") from None
        data = {} if data is None else data
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: a gate config is a mapping with keys {', '.join(_ALLOWED)}")
        unknown = sorted(str(k) for k in set(data) - set(_ALLOWED))
        if unknown:
            raise ConfigError(f"{path}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(_ALLOWED)}")
        effects = data.get("min_effect") or {}
        if not isinstance(effects, dict):
            raise ConfigError(f"{path}: min_effect must be a mapping such as {{bleu: 0.5}}, got {effects!r}")
        metrics = data.get("metrics")
        if metrics is not None and not isinstance(metrics, list):
            raise ConfigError(f"{path}: metrics must be null or a list such as [bleu, chrf], got {metrics!r}")
        try:
            return cls(min_effect={str(k): v for k, v in effects.items()}, alpha=data.get("alpha", 0.05),
                       n_resamples=data.get("n_resamples", 1000), seed=data.get("seed", 12345),
                       metrics=None if metrics is None else tuple(metrics))
        except ConfigError as err:
            raise ConfigError(f"{path}: {err}") from None
