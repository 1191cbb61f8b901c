"""Decoding settings resolved once (the model's defaults, then the config), and what each engine is given.

Three places hold generation settings: the system config, the model's ``generation_config.json``
(or the generation keys of an old ``config.json``), and each library's defaults. Left implicit,
``generate`` inherits the model file's sampling and penalties (Qwen2.5-Instruct ships
``do_sample: true``, ``temperature: 0.7``, ``top_p: 0.8``, ``top_k: 20`` and a
``repetition_penalty`` of 1.05-1.1) while vLLM and CTranslate2 apply none, and all of them are
called "greedy". Here the rule is one, for every backend:

* the model's own beam size, length penalty and beam termination (``early_stopping``) apply
  unless the config sets them (opus-mt-zh-en's ``config.json`` has ``num_beams: 6``,
  m2m100_418M's ``early_stopping: true``), as they are part of how the model was meant to decode;
* decoding never samples, and no repetition penalty or n-gram ban applies unless the config asks
  for one: the model file's sampling settings and penalties are recorded as ignored, not applied.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mteval.errors import ConfigError
from mteval.hub.loading import model_error
from mteval.hub.loading import load_or_explain

#: transformers' ``early_stopping`` values (GenerationConfig docs): True stops a sentence's beam search once
#: ``num_beams`` hypotheses have finished, False once a heuristic says no running beam can beat the worst
#: of them, "never" only when none can (canonical beam search).
EARLY_STOPPING = (True, False, "never")
#: Model-file settings never applied unless the config sets them (they are listed as ignored).
NOT_INHERITED = ("do_sample", "temperature", "top_p", "top_k", "repetition_penalty", "no_repeat_ngram_size")
# The values at which those settings change nothing (transformers' defaults).
_NEUTRAL = {"do_sample": False, "temperature": 1.0, "top_p": 1.0, "top_k": 50, "repetition_penalty": 1.0,
            "no_repeat_ngram_size": 0}


@dataclass(frozen=True)
class Decoding:
    """The resolved decoding of a system, given to whichever engine runs it (CTranslate2 stops beam search
    its own way where it cannot stop as resolved: :meth:`ct2_beam_stop`)."""

    num_beams: int
    length_penalty: float
    repetition_penalty: float
    no_repeat_ngram_size: int
    max_new_tokens: int
    #: transformers' beam termination (one of EARLY_STOPPING): the model's own unless the config sets it.
    early_stopping: bool | str = False
    #: model-file settings that were not applied (e.g. Qwen's sampling), recorded for the reader.
    ignored_model_defaults: dict[str, Any] = field(default_factory=dict)

    def describe(self, beam_stop: str | None = None) -> dict[str, Any]:
        """The settings for fingerprints and signatures; ``mode`` says greedy or beam search,
        ``beam_stop`` the termination rule the engine applies (:meth:`beam_stop` unless given)."""
        return {"mode": "greedy" if self.num_beams == 1 else f"beam{self.num_beams}", **asdict(self),
                "beam_stop": beam_stop or self.beam_stop()}

    def signature_fields(self, beam_stop: str | None = None) -> dict[str, Any]:
        """The decoding's keys of a :class:`~mteval.signature.Signature`:
        ``search:beam6|lp:1.0|stop:n-finished|rp:1.0|nrng:0|max:256`` once printed (no ``stop`` under
        greedy decoding, where there is nothing to stop)."""
        described = self.describe(beam_stop)
        return {"search": described["mode"], "length_penalty": self.length_penalty,
                "beam_stop": None if self.num_beams == 1 else described["beam_stop"],
                "repetition_penalty": self.repetition_penalty, "no_repeat_ngram_size": self.no_repeat_ngram_size,
                "max_new_tokens": self.max_new_tokens}

    def beam_stop(self) -> str:
        """The beam termination rule as resolved (what ``generate`` applies), named by its effect.

        ``n-finished``: a sentence stops once ``num_beams`` hypotheses have ended (early_stopping=True).
        ``best-finished``: once no running beam can beat a finished one; with length_penalty 0 scores
        only fall, so False and "never" both stop there. ``hf-heuristic`` (False) and ``hf-never``
        ("never") with a length penalty: transformers' own bounds on what a running beam may still reach.
        """
        if self.num_beams == 1:
            return "greedy"
        if self.early_stopping is True:
            return "n-finished"
        if self.length_penalty == 0:
            return "best-finished"
        return "hf-heuristic" if self.early_stopping is False else "hf-never"

    def ct2_beam_stop(self) -> str:
        """The rule CTranslate2 applies, and the resolved one in brackets where it cannot apply that.

        CTranslate2 stops once ``beam_size * patience`` hypotheses have ended (``n-finished`` at
        patience 1), except with length_penalty 0, where it stops as soon as the best beam ends
        (``best-finished``): src/decoding.cc, BeamSearch::search. It has no equivalent of
        transformers' heuristic bound, so early_stopping false/"never" with a length penalty
        reads ``n-finished(asked:hf-heuristic)``.
        """
        if self.num_beams == 1:
            return "greedy"
        applied = "best-finished" if self.length_penalty == 0 else "n-finished"
        asked = self.beam_stop()
        return applied if applied == asked else f"{applied}(asked:{asked})"

    def hf_kwargs(self) -> dict[str, Any]:
        """``generate`` keywords: every setting explicit, so nothing leaks in from the model's file
        (greedy gets early_stopping False, the value transformers expects with one beam)."""
        return {"num_beams": self.num_beams, "length_penalty": self.length_penalty,
                "early_stopping": self.early_stopping if self.num_beams > 1 else False,
                "repetition_penalty": self.repetition_penalty, "no_repeat_ngram_size": self.no_repeat_ngram_size,
                "max_new_tokens": self.max_new_tokens, "do_sample": False, "temperature": None, "top_p": None,
                "top_k": None}

    def ct2_kwargs(self) -> dict[str, Any]:
        """``Translator.translate_batch`` keywords (the max length is adjusted by the CTranslate2 backend).
        Patience 1 stops where ``generate`` does with early_stopping=True (see :meth:`ct2_beam_stop`)."""
        return {"beam_size": self.num_beams, "patience": 1.0, "length_penalty": self.length_penalty,
                "repetition_penalty": self.repetition_penalty, "no_repeat_ngram_size": self.no_repeat_ngram_size,
                "sampling_topk": 1}

    def vllm_kwargs(self) -> dict[str, Any]:
        """``SamplingParams`` keywords: temperature 0 is vLLM's greedy; it has no beam search here."""
        if self.num_beams != 1:
            raise ConfigError(f"num_beams={self.num_beams}: the vLLM backend decodes greedily only; set "
                              "system.num_beams=1 or use the transformers backend for beam search")
        if self.no_repeat_ngram_size:
            raise ConfigError("no_repeat_ngram_size is not supported by the vLLM backend; set it to 0")
        return {"temperature": 0.0, "top_p": 1.0, "top_k": -1, "repetition_penalty": self.repetition_penalty,
                "max_tokens": self.max_new_tokens}


def resolve_decoding(model_defaults: dict[str, Any], *, max_new_tokens: int, num_beams: int | None = None,
                     length_penalty: float | None = None, repetition_penalty: float | None = None,
                     no_repeat_ngram_size: int | None = None, early_stopping: bool | str | None = None) -> Decoding:
    """The model's defaults, then the config's settings (None = not set in the config)."""
    def own(key: str, default: Any) -> Any:
        value = model_defaults.get(key)
        return default if value is None else value

    ignored = {k: model_defaults[k] for k in NOT_INHERITED
               if model_defaults.get(k) is not None and model_defaults[k] != _NEUTRAL[k]}
    decoding = Decoding(
        num_beams=int(num_beams if num_beams is not None else own("num_beams", 1)),
        length_penalty=float(length_penalty if length_penalty is not None else own("length_penalty", 1.0)),
        repetition_penalty=float(1.0 if repetition_penalty is None else repetition_penalty),
        no_repeat_ngram_size=int(0 if no_repeat_ngram_size is None else no_repeat_ngram_size),
        max_new_tokens=int(max_new_tokens),
        early_stopping=_early_stopping(early_stopping, own("early_stopping", False)),
        ignored_model_defaults=ignored,
    )
    if decoding.num_beams < 1 or decoding.max_new_tokens < 1 or decoding.repetition_penalty <= 0:
        raise ConfigError(f"decoding settings out of range: {decoding.describe()} (num_beams and "
                          "max_new_tokens at least 1, repetition_penalty above 0)")
    return decoding


def _early_stopping(configured: Any, model_value: Any) -> bool | str:
    """The config's early_stopping, else the model file's; a value transformers would refuse is refused here."""
    value = model_value if configured is None else configured
    if not any(value is v or (isinstance(v, str) and value == v) for v in EARLY_STOPPING):
        source = "the model's generation config" if configured is None else "system.early_stopping"
        raise ConfigError(f"early_stopping={value!r} (from {source}) is not one of true, false, never; "
                          "set system.early_stopping to one of them")
    return value


class ResolvesDecoding:
    """For systems with ``model_id``, ``revision``, ``max_new_tokens`` and optional ``num_beams``,
    ``length_penalty``, ``early_stopping``, ``repetition_penalty``, ``no_repeat_ngram_size`` settings: the model's
    generation defaults, read once, and the effective :class:`Decoding`, resolved once."""

    _resolved: Decoding | None = None
    _model_defaults: dict[str, Any] | None = None

    def model_defaults(self) -> dict[str, Any]:
        """The generation settings the model ships (read without loading the model)."""
        if self._model_defaults is None:
            self._model_defaults = model_generation_defaults(self.model_id, self.revision)
        return self._model_defaults

    def decoding(self) -> Decoding:
        """The effective decoding settings: the model's defaults, then the config's."""
        if self._resolved is None:
            self._resolved = resolve_decoding(
                self.model_defaults(), max_new_tokens=self.max_new_tokens,
                **{k: getattr(self, k, None) for k in ("num_beams", "length_penalty", "repetition_penalty",
                                                       "no_repeat_ngram_size", "early_stopping")})
        return self._resolved


def model_generation_defaults(model: str, revision: str | None = None) -> dict[str, Any]:
    """The generation settings a model ships, read from its JSON files without loading it.

    ``generation_config.json`` when the model has one, else the generation keys of
    ``config.json`` (opus-mt repositories predate generation configs and keep ``num_beams``
    there; transformers derives the generation config from it the same way).
    """
    for name in ("generation_config.json", "config.json"):
        path = _model_file(model, revision, name)
        if path is not None:
            return json.loads(path.read_text(encoding="utf-8"))

    raise model_error(model, OSError(f"{model} has neither generation_config.json nor config.json"))


def _model_file(model: str, revision: str | None, name: str) -> Path | None:
    """A file of a local model directory or of a Hub model (cached, or downloaded when online)."""
    local = Path(model)
    if local.is_dir():
        return local / name if (local / name).is_file() else None
    from huggingface_hub import hf_hub_download, try_to_load_from_cache
    from huggingface_hub.errors import EntryNotFoundError

    cached = try_to_load_from_cache(model, name, revision=revision)
    if isinstance(cached, str):
        return Path(cached)
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        if name == "config.json":

            raise model_error(model, OSError("offline: cannot find the requested files in the local cache"))
        return None

    try:
        return Path(load_or_explain(model, lambda: hf_hub_download(model, name, revision=revision)))
    except Exception as err:  # noqa: BLE001 - only "this repo has no such file" means "try the next file"
        if isinstance(err.__cause__, EntryNotFoundError) or isinstance(err, EntryNotFoundError):
            return None
        raise
