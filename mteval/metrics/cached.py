"""CachedMetric: any metric behind the result cache, keyed by its fingerprint and every input it scores."""
from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from mteval.cache import Cache, digest
from mteval.hub.availability import ModelRef
from mteval.metrics.base import Metric
from mteval.types import MetricResult

log = logging.getLogger(__name__)


class CachedMetric(Metric):
    """Answer a scoring call from the cache when the same metric (by fingerprint: class, settings,
    versions, model content) scored the same hypotheses, references, sources and sentence pairs before;
    otherwise score and store the result (a metric with nothing to score is stored as such)."""

    def __init__(self, metric: Metric, cache: Cache):
        self.inner = metric
        self.cache = cache
        self.name = metric.name
        self.higher_is_better = metric.higher_is_better
        self.needs_ref, self.needs_src = metric.needs_ref, metric.needs_src
        self.model_id, self.revision = metric.model_id, metric.revision
        self._fingerprint: dict[str, Any] | None = None
        metric.use_cache(cache)

    def fingerprint(self) -> dict[str, Any]:
        if self._fingerprint is None:  # model identity may hash a checkpoint: once per run
            self._fingerprint = self.inner.fingerprint()
        return self._fingerprint

    def required_models(self) -> list[ModelRef]:
        return self.inner.required_models()

    def preflight(self) -> None:
        self.inner.preflight()

    def oversized(self, texts: list[str], tgt_lang: str) -> list[tuple[int, int]]:
        return self.inner.oversized(texts, tgt_lang)

    def check_judged_system(self, fingerprint: dict[str, Any]) -> None:
        self.inner.check_judged_system(fingerprint)

    @property
    def max_words(self) -> int | None:  # type: ignore[override]
        return self.inner.max_words

    @property
    def max_chars(self) -> int | None:  # type: ignore[override]
        return self.inner.max_chars

    def score(self, hyps: Sequence[str], refs: Sequence[Sequence[str]], srcs: Sequence[str] | None = None, *,
              tgt_lang: str = "zh", pairs: Sequence[Sequence[tuple[str, str]] | None] | None = None,
              ) -> MetricResult | None:
        inputs: dict[str, Any] = {"metric": self.fingerprint(), "tgt": tgt_lang, "src": list(srcs or []),
                                  "hyp": list(hyps), "refs": [list(r) for r in refs]}
        if pairs is not None and any(pairs):
            inputs["pairs"] = [p and [list(x) for x in p] for p in pairs]
        key = digest(inputs)
        hit = self.cache.get_metric(key)
        if hit is not None:
            log.info("%s: cached result", self.name)
            return None if hit.get("none") else MetricResult(**hit)
        result = self.inner.score(hyps, refs, srcs, tgt_lang=tgt_lang, pairs=pairs)
        self.cache.put_metric(key, {"none": True} if result is None else result.__dict__)
        return result

    def _score(self, hyps: list[str], refs: list[list[str]], srcs: list[str] | None, *, tgt_lang: str) -> MetricResult:
        raise NotImplementedError("CachedMetric.score delegates to the wrapped metric")  # never called
