"""The ``limit`` every loader takes: keep the first N segments, refusing a limit that keeps none."""
from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from mteval import validate

T = TypeVar("T")


def first(items: list[T], limit: int | None, path: str | Path) -> list[T]:
    """``items[:limit]`` (all when ``limit`` is None).

    Raises:
        SettingError: ``limit`` is not a whole number of at least 1 (``limit=0`` once meant "all",
            ``-1`` would drop the last segment without a word, ``abc`` failed inside a comparison).
    """
    validate.integer("limit", limit, minimum=1, optional=True)
    return items if limit is None else items[:limit]
