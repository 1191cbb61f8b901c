"""Signatures of systems and metrics, printed as sacrebleu prints its own: ``key:value|key:value``."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

#: Every key mteval writes into a signature, in the order it is printed, and its abbreviation.
#: The order is fixed here, not by the code that fills a signature in, so signatures read alike
#: (the model first, then inputs, settings, device, versions); sacrebleu's own keys come from sacrebleu.
KEYS = {
    "model": "model",                  # <id>@hub:<commit> or <path>@sha256:<digest> (model_ref)
    "tokenizer": "tok",
    "backend": "backend",
    "protocol": "protocol",            # an LLM judge's annotation protocol (mteval-mqm)
    "prompt": "prompt",
    "reference_free": "qe",
    "nrefs": "nrefs",
    "multi_ref": "multiref",
    "score": "score",
    "weights": "w",
    "spans": "spans",
    "self_judge": "self",
    "target_token": "tgt_token",
    "search": "search",                # greedy | beamN
    "length_penalty": "lp",
    "beam_stop": "stop",               # when beam search stops: n-finished, hf-heuristic, hf-never, best-finished
    "repetition_penalty": "rp",
    "no_repeat_ngram_size": "nrng",
    "max_new_tokens": "max",
    "batch_size": "bs",
    "precision": "precision",
    "dtype": "dtype",
    "device": "device",                # the resolved one: cpu, cuda, cuda:N, mps
    "zh_punct": "zhpunct",
    "max_input_tokens": "maxtok",
    "long_inputs": "long",
    "subset": "subset",
    "seed": "seed",
    "comet": "comet",                  # versions of the libraries that compute the number, last
    "transformers": "transformers",
    "ctranslate2": "ctranslate2",
    "vllm": "vllm",
}


def model_ref(model: str, identity: str) -> str:
    """The one way a signature names a model: ``<id>@hub:<commit>`` or ``<path>@sha256:<digest>``,
    the commit or digest cut to 12 hex digits as git shortens commits. ``identity`` is
    :func:`mteval.hub.identity.model_identity`'s ``hub:<commit>`` or ``sha256:<digest>``."""
    kind, _, value = identity.partition(":")
    return f"{model}@{kind}:{value[:12]}"


def reference_fields(n_refs: int, multi_ref: str, *, qe: bool) -> dict[str, Any]:
    """What a metric compared against: ``qe:yes`` (no reference), or ``nrefs:N|multiref:mean``
    (how several references were combined; ``none`` where there was one)."""
    if qe:
        return {"reference_free": True}
    return {"nrefs": n_refs, "multi_ref": multi_ref if n_refs > 1 else "none"}


def _text(value: Any) -> str:
    return ("yes" if value else "no") if isinstance(value, bool) else str(value)


class Signature:
    """An ordered list of ``(abbreviation, value)`` pairs; ``str()`` prints it as sacrebleu does.

    Build one with :meth:`of` (keys of :data:`KEYS`, printed in its order; None leaves a key out,
    booleans print yes/no), read one back with :meth:`parse` (sacrebleu's signature strings too),
    and join two with ``+`` (a suffix such as the long-input policy follows what it qualifies).
    """

    def __init__(self, pairs: list[tuple[str, str]]):
        self.pairs = list(pairs)

    @classmethod
    def of(cls, **fields: Any) -> Signature:
        unknown = sorted(set(fields) - set(KEYS))
        if unknown:
            raise KeyError(f"not signature keys: {', '.join(unknown)} (add them to mteval.signature.KEYS)")
        return cls([(abbr, _text(fields[key])) for key, abbr in KEYS.items()
                    if key in fields and fields[key] is not None])

    @classmethod
    def parse(cls, text: str) -> Signature:
        """The pairs of a printed signature (mteval's or sacrebleu's ``nrefs:1|case:mixed|...``)."""
        pairs = []
        for part in text.split("|") if text else []:
            abbr, sep, value = part.partition(":")
            if not sep:
                raise ValueError(f"signature part {part!r} of {text!r} is not key:value")
            pairs.append((abbr, value))
        return cls(pairs)

    def __add__(self, other: Signature) -> Signature:
        return Signature(self.pairs + other.pairs)

    def __getitem__(self, abbr: str) -> str:
        for key, value in self.pairs:
            if key == abbr:
                return value
        raise KeyError(abbr)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.pairs)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Signature) and self.pairs == other.pairs

    def __str__(self) -> str:
        return "|".join(f"{abbr}:{value}" for abbr, value in self.pairs)

    def __repr__(self) -> str:
        return f"Signature({str(self)!r})"
