"""Translation directions: which a system serves, and the model's own code for each language."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from mteval.errors import ConfigError
from mteval.types import Direction


def check_pairs(pairs: Sequence[str] | None) -> list[str] | None:
    """Validate a config's ``language_pairs`` list (None = not declared, any direction)."""
    if pairs is None:
        return None
    if isinstance(pairs, str) or not pairs:
        raise ConfigError(f"language_pairs must be a non-empty list such as [en-zh], got {pairs!r}")
    for pair in pairs:
        Direction.parse(pair, "language_pairs")
    return list(pairs)


def check_direction(name: str, model: str | None, pairs: Sequence[str] | None, src: str, tgt: str) -> None:
    """Refuse a direction the system does not serve, in one line that names the fix."""
    if pairs is None or f"{src}-{tgt}" in pairs:
        return
    what = f"system {name}" + (f" ({model})" if model else "")
    raise ConfigError(f"{what} translates {', '.join(pairs)} only, but the dataset is {src}-{tgt}: choose a "
                      f"system for {src}-{tgt} (e.g. system=nllb_600m, which follows the dataset's direction) "
                      "or a dataset in a direction the system serves")


def model_code(name: str, codes: Mapping[str, str] | None, lang: str) -> str | None:
    """The model's code for ``lang`` (``zho_Hans`` for NLLB, ``zh`` for M2M100); None without a map."""
    if codes is None:
        return None
    try:
        return codes[lang]
    except KeyError:
        raise ConfigError(f"system {name}: no model language code for {lang!r}; add it to system.lang_codes "
                          f"(has {', '.join(sorted(codes))})") from None
