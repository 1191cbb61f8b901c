"""The copy-the-source baseline: a floor every real system must beat."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mteval.systems.base import System
from mteval.types import Translation


class CopySystem(System):
    """Return each source unchanged (scores what "no translation" earns on a metric)."""

    uses_model = False

    def __init__(self, *, name: str = "copy"):
        self.name = name

    def translate(self, sources: Sequence[str], *, src_lang: str, tgt_lang: str) -> Translation:
        return Translation(list(sources))

    def fingerprint(self) -> dict[str, Any]:
        return {"class": "CopySystem", "name": self.name}
