"""Checks for constructor settings: types, ranges and choices, each failure one line naming the setting."""
from __future__ import annotations

import math
import re
from collections.abc import Collection
from typing import Any

from mteval.errors import ConfigError


class SettingError(ConfigError):
    """A setting with a wrong value. ``setting`` is its key as the constructor knows it (``batch_size``);
    the entry layer prefixes the config path (``system.batch_size``) with :meth:`under`."""

    def __init__(self, setting: str, value: Any, problem: str):
        self.setting = setting
        self.value = value
        self.problem = problem
        super().__init__(f"{setting}={value!r} {problem}")

    def under(self, prefix: str, note: str = "") -> SettingError:
        """The same error with the setting's full config path, and an optional note."""
        return SettingError(f"{prefix}.{self.setting}" if prefix else self.setting, self.value, self.problem + note)


def integer(setting: str, value: Any, *, minimum: int | None = None, maximum: int | None = None,
            optional: bool = False) -> int | None:
    """An int (a bool is not one) within ``[minimum, maximum]``; None only when ``optional``."""
    if value is None and optional:
        return None
    bounds = _bounds(minimum, maximum) + (", or null" if optional else "")
    if isinstance(value, bool) or not isinstance(value, int):
        raise SettingError(setting, value, f"is not a whole number: use an integer{bounds}")
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise SettingError(setting, value, f"is out of range: use an integer{bounds}")
    return value


def number(setting: str, value: Any, *, minimum: float | None = None, maximum: float | None = None,
           above: float | None = None, below: float | None = None) -> float:
    """A finite int or float within ``[minimum, maximum]`` and strictly inside ``(above, below)``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SettingError(setting, value, "is not a finite number")
    if ((minimum is not None and value < minimum) or (maximum is not None and value > maximum)
            or (above is not None and value <= above) or (below is not None and value >= below)):
        low = f" above {above}" if above is not None else _bounds(minimum, None)
        high = f" below {below}" if below is not None else "" if maximum is None else f" at most {maximum}"
        raise SettingError(setting, value, f"is out of range: use a number{low}{' and' if low and high else ''}{high}")
    return float(value)


def choice(setting: str, value: Any, choices: Collection[Any], *, optional: bool = False) -> Any:
    """One of ``choices`` (None too when ``optional``)."""
    if value is None and optional:
        return None
    # True == 1 in Python: a boolean is a choice only where it is listed as one.
    if value not in choices or (isinstance(value, bool) and not any(c is value for c in choices)):
        listed = ", ".join(str(c) for c in choices) + (", null" if optional else "")
        raise SettingError(setting, value, f"is not a valid choice: use one of {listed}")
    return value


def boolean(setting: str, value: Any, *, optional: bool = False) -> bool | None:
    """true or false (a string such as "no" is refused: YAML would not read it as false either)."""
    if value is None and optional:
        return None
    if not isinstance(value, bool):
        raise SettingError(setting, value, "is not a boolean: use true or false" + (" or null" if optional else ""))
    return value


def text(setting: str, value: Any, *, optional: bool = False) -> str | None:
    """A string with some non-space text; None only when ``optional``."""
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value.strip():
        raise SettingError(setting, value, "must be a non-empty string")
    return value


_DEVICE = re.compile(r"(auto|cpu|mps|cuda(:\d+)?)")


def device(setting: str, value: Any) -> str:
    """``auto``, ``cpu``, ``mps``, ``cuda`` or ``cuda:N``."""
    if not isinstance(value, str) or not _DEVICE.fullmatch(value):
        raise SettingError(setting, value, "is not a device: use auto, cpu, cuda, cuda:N or mps")
    return value


def _bounds(minimum: float | None, maximum: float | None) -> str:
    if minimum is not None and maximum is not None:
        return f" from {minimum} to {maximum}"
    if minimum is not None:
        return f" >= {minimum}"
    return "" if maximum is None else f" <= {maximum}"
