"""The ``limit`` every loader takes: keep the first N segments, refusing a limit that keeps none."""
from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from mteval.errors import InputError

T = TypeVar("T")


def first(items: list[T], limit: int | None, path: str | Path) -> list[T]:
    """``items[:limit]`` (all when ``limit`` is None); a limit below 1 is an error naming ``path``."""
    if limit is None:
        return items
    if limit < 1:
        raise InputError(path, None, f"limit must be at least 1, got {limit}")
    return items[:limit]
