"""CTranslate2's ``translate_batch`` options for a resolved :class:`~mteval.systems.decoding.Decoding`."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mteval.systems.decoding import Decoding


def decoding_options(gen: dict[str, Any], tok: Any, converted: Path, decoding: Decoding) -> dict[str, Any]:
    """``translate_batch`` options that decode as ``generate`` does with the same resolved settings
    (beam termination where CTranslate2 can express it: :meth:`Decoding.ct2_beam_stop`).

    ``max_new_tokens`` counts the forced language token in both libraries. Where the model
    forces EOS at the length limit (Marian's ``forced_eos_token_id``), ``generate`` keeps one
    token fewer, so CTranslate2 gets one fewer too. ``bad_words_ids`` become suppressed
    sequences; those CTranslate2 cannot emit anyway (Marian's ``<pad>``, dropped by the
    converter) are left out. Inputs are never truncated: long ones were split before.
    """
    forced_eos = gen.get("forced_eos_token_id") is not None
    vocab = _target_vocabulary(converted)
    suppress = []
    for ids in gen.get("bad_words_ids") or []:
        tokens = tok.convert_ids_to_tokens(list(ids))
        if vocab is None or all(t in vocab for t in tokens):
            suppress.append(tokens)
    limit = decoding.max_new_tokens
    return {
        **decoding.ct2_kwargs(),
        "max_decoding_length": limit - 1 if forced_eos else limit,
        "min_decoding_length": 0,
        "max_input_length": 0,
        "suppress_sequences": suppress or None,
    }


def _target_vocabulary(converted: Path) -> set[str] | None:
    """The converted model's target vocabulary (shared or separate), or None if it is not found."""
    for name in ("target_vocabulary.json", "shared_vocabulary.json"):
        path = converted / name
        if path.is_file():
            return set(json.loads(path.read_text(encoding="utf-8")))
    return None
