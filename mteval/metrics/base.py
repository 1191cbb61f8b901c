"""The Metric base class: declares direction and inputs, scores hypotheses into a MetricResult."""
from __future__ import annotations

import importlib
import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from mteval.cache import Cache
from mteval.hub.availability import ModelRef
from mteval.hub.identity import model_identity
from mteval.metrics.long_inputs import plan_units
from mteval.provenance import package_versions
from mteval.types import MetricResult

#: Default bound on the characters of any one text a metric is given (each metric's ``max_chars``).
#: A longer one is refused, naming the segment, before translating (issue 23: a 20M-character field
#: ran BLEU out of memory). sacrebleu BLEU, one random Chinese segment: 100,000 characters 2.4 s /
#: 130 MB, 1,000,000 characters 25 s / 1.2 GB. A whole WMT document or abstract is far below.
MAX_CHARS = 100_000


class Metric(ABC):
    """A corpus-level metric with per-segment scores.

    Subclasses set ``name``, ``higher_is_better``, ``needs_ref`` and ``needs_src`` and
    implement :meth:`_score` over the segments they can score. The base selects those
    segments (with a reference, when one is needed) and spreads the segment scores back
    to corpus positions, with None where a segment was not scored.
    """

    name: str = ""
    higher_is_better: bool = True
    needs_ref: bool = True
    needs_src: bool = False
    #: The Hub id or local path of the metric's model, and its Hub revision (None for sacrebleu's metrics).
    model_id: str | None = None
    revision: str | None = None
    #: The most words a text may have for this metric (see :meth:`oversized`); None: any length.
    max_words: int | None = None
    #: The smallest worsening, in the metric's units, that may fail a CI gate: recorded with each score,
    #: so a gate needs no edit for a new metric (``min_effect`` in conf/gate.yaml overrides it).
    min_effect: float | None = None
    #: The longest text (hypothesis, reference or source, in characters) this metric scores; each
    #: constructor sets it from its ``max_chars`` setting. None: no bound.
    max_chars: int | None = None

    def required_models(self) -> list[ModelRef]:
        """The Hub models this metric loads (checked before any model loads, fetched by ``mteval-prefetch``)."""
        return []

    def preflight(self) -> None:
        """Locate model files and refuse settings this machine cannot run, before any translation work.
        Runs after :meth:`required_models` were found available."""

    def oversized(self, texts: list[str], tgt_lang: str) -> list[tuple[int, int]]:
        """``(position, size)`` of each text longer than this metric may score (TER's cost grows faster
        than the length); the pipeline refuses such a text before translating."""
        return []

    def check_judged_system(self, fingerprint: dict[str, Any]) -> None:
        """Refuse to score the system with this fingerprint (an LLM judge of its own model's outputs)."""

    def use_cache(self, cache: Cache) -> None:
        """The run's cache, given before scoring when the run has one: a metric may keep what it computes
        on the way to a score there for later runs (COMET: sentence embeddings). Default: nothing."""

    def settings(self) -> dict[str, Any]:
        """The public settings that rebuild this metric (``scores.json``'s ``metric.settings``)."""
        return {k: v for k, v in vars(self).items()
                if not k.startswith("_") and not callable(v) and k not in {"name", "needs_ref"}}

    def fingerprint(self) -> dict[str, Any]:
        """The class and public settings plus the versions that change the numbers, and for a metric with
        a model that model's identity by content (Hub commit or digest of the local checkpoint), so a
        checkpoint swapped at the same path is never taken for the old one: the metric cache key."""
        fp: dict[str, Any] = {"class": type(self).__name__, "settings": self.settings(),
                              "versions": package_versions()}
        if self.model_id is not None:
            fp["model_identity"] = model_identity(self.model_id, self.revision)
        return fp

    def score(
        self,
        hyps: Sequence[str],
        refs: Sequence[Sequence[str]],
        srcs: Sequence[str] | None = None,
        *,
        tgt_lang: str = "zh",
        pairs: Sequence[Sequence[tuple[str, str]] | None] | None = None,
    ) -> MetricResult | None:
        """Score ``hyps`` (one per segment) against ``refs`` (a list of references per segment).

        ``pairs`` holds, per segment, the ``(source, hypothesis)`` sentence pairs the system
        translated (None where it kept none): a metric with an input limit scores an over-long
        segment by these pairs instead of letting its model cut the input (see
        :mod:`mteval.metrics.long_inputs`).

        Returns None when the metric needs references and no segment has one.
        """
        if len(refs) != len(hyps) or (srcs is not None and len(srcs) != len(hyps)):
            raise ValueError(f"{self.name}: {len(hyps)} hypotheses, {len(refs)} reference lists, "
                             f"{None if srcs is None else len(srcs)} sources")
        if self.needs_src and srcs is None:
            raise ValueError(f"{self.name} needs the sources")
        keep = [i for i, r in enumerate(refs) if r] if self.needs_ref else list(range(len(hyps)))
        if not keep:
            return None
        if pairs is not None and len(pairs) != len(hyps):
            raise ValueError(f"{self.name}: {len(pairs)} sentence-pair lists for {len(hyps)} hypotheses")
        plan = plan_units(self, [hyps[i] for i in keep], [list(refs[i]) for i in keep],
                          None if srcs is None else [srcs[i] for i in keep],
                          None if pairs is None else [pairs[i] for i in keep])
        result = self._score(plan.hyps, plan.refs, plan.srcs, tgt_lang=tgt_lang)
        plan.collapse(result, positions=keep)
        if result.segment_scores is not None:
            spread: list[float | None] = [None] * len(hyps)
            for i, s in zip(keep, result.segment_scores, strict=True):
                spread[i] = s
            result.segment_scores = spread
        if result.segment_extra:
            result.segment_extra = {k: _spread(values, keep, len(hyps)) for k, values in result.segment_extra.items()}
        if result.n_scored is None:  # a metric that leaves segments unscored (an LLM judge) counts them itself
            result.n_scored = len(keep)
        result.higher_is_better = self.higher_is_better
        if result.n_scored and not math.isfinite(result.score):  # nothing scored: no score (the pipeline says so)
            raise ValueError(f"{self.name} returned a non-finite corpus score {result.score}")
        return result

    @abstractmethod
    def _score(
        self, hyps: list[str], refs: list[list[str]], srcs: list[str] | None, *, tgt_lang: str
    ) -> MetricResult:
        """Score segments that all have what the metric needs."""

    def measure_inputs(
        self, hyps: list[str], refs: list[list[str]], srcs: list[str] | None
    ) -> tuple[int, list[int]] | None:
        """``(limit, lengths)``: each segment's input in tokens as the model really sees it (its own
        tokenizer, the fields joined as the model joins them) and the most it reads; None for a
        metric that reads any length (sacrebleu). Neural metrics override this."""
        return None

    #: Whether an over-long segment may be scored by its sentence pairs (only without references:
    #: the references have no sentence alignment to the source).
    @property
    def splits_by_sentences(self) -> bool:
        return not self.needs_ref

    @property
    def cache_key(self) -> str:
        """What identifies this metric's results in the cache; subclasses add their settings."""
        return self.name


def _spread(values: Sequence, positions: Sequence[int], n: int) -> list:
    """Values of the scored segments placed at their corpus positions, None elsewhere."""
    out: list = [None] * n
    for i, v in zip(positions, values, strict=True):
        out[i] = v
    return out


def metric_class(path: str) -> type[Metric]:
    """Import the metric class a results file names (``mteval.metrics.sacre.BLEU``).

    Only classes inside ``mteval.metrics`` are imported: the name comes from a file, which must
    not be able to run arbitrary code.

    Raises:
        LookupError: the name is outside ``mteval.metrics``, missing, or not a Metric.
    """
    module_name, _, cls_name = path.rpartition(".")
    if not module_name.startswith("mteval.metrics"):
        raise LookupError(f"class {path!r} is not an mteval metric")
    try:
        cls = getattr(importlib.import_module(module_name), cls_name)
    except (ImportError, AttributeError):
        raise LookupError(f"metric class {path!r} no longer exists") from None
    if not (isinstance(cls, type) and issubclass(cls, Metric)):
        raise LookupError(f"class {path!r} is not a metric")
    return cls
