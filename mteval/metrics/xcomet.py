"""XCOMET (Guerreiro et al., 2023): a COMET score plus minor/major/critical error spans per segment."""
from __future__ import annotations

from typing import Any

from mteval.errors import ConfigError
from mteval.metrics.comet import Comet
from mteval.metrics.comet_files import checkpoint_path
from mteval.metrics.spans import FIELD, clean_spans, severity_counts
from mteval.types import MetricResult

#: comet's class_identifier of checkpoints that return error spans (unbabel-comet 2.2.7, comet/models/__init__.py).
XCOMET_CLASS = "xcomet_metric"


class XComet(Comet):
    """Unbabel/XCOMET-XL or -XXL through unbabel-comet: :class:`Comet`'s scoring (same settings,
    signature, precision, long-input handling) and, per segment, the error spans that comet's
    ``XCOMETMetric.predict`` returns in ``metadata.error_spans``.

    Spans are stored in ``MetricResult.segment_extra["error_spans"]`` (segments.jsonl key
    ``<name>_error_spans``): ``text``, character ``start``/``end`` in the hypothesis, ``severity``
    and ``confidence``. With several references they are those against the first reference (the
    score follows ``multi_ref``). Span counts per severity go to scores.json (``error_spans``).
    """

    def preflight(self) -> None:
        """Locate the checkpoint and refuse, before any translation, one that is not an XCOMET (it has no spans)."""
        import yaml

        self.resolved_precision()  # a precision the device lacks is refused first, before anything is located

        hparams = checkpoint_path(self.model_id, self.revision).parents[1] / "hparams.yaml"
        found = (yaml.safe_load(hparams.read_text(encoding="utf-8")) or {}).get("class_identifier") \
            if hparams.is_file() else None
        if found != XCOMET_CLASS:
            raise ConfigError(f"metrics.{self.name}.model={self.model_id}: a COMET checkpoint of class {found!r}, "
                              f"which marks no error spans; XCOMET needs class {XCOMET_CLASS!r} (Unbabel/XCOMET-XL "
                              "or Unbabel/XCOMET-XXL); use metrics=[comet] for other COMET models")

    def _predict(self, samples: list[dict[str, str]]) -> list[float]:
        out = self._predict_output(samples)
        for sample, spans in zip(samples, out.metadata.error_spans, strict=True):
            self._spans[_key(sample["src"], sample["mt"], sample.get("ref"))] = clean_spans(sample["mt"], spans)
        return [float(s) for s in out.scores]

    def _score(self, hyps, refs, srcs, *, tgt_lang) -> MetricResult:
        # Filled by _predict, keyed by the sample's texts: the base class may score a subset
        # (max_segments) or several references, and each segment takes its first reference's spans.
        self._spans: dict[tuple[str, str, str | None], list[dict[str, Any]]] = {}
        result = super()._score(hyps, refs, srcs, tgt_lang=tgt_lang)
        spans = [self._spans.get(_key(s, h, None if self.reference_free else r[0]))
                 for s, h, r in zip(srcs, hyps, refs, strict=True)]
        self._spans = {}
        result.segment_extra = {FIELD: spans}
        return result

    def score(self, hyps, refs, srcs=None, *, tgt_lang="zh", pairs=None) -> MetricResult | None:
        """:meth:`Metric.score`, then the span counts per severity over the corpus (after the spans of
        a segment scored by its sentences are merged back onto it)."""
        result = super().score(hyps, refs, srcs, tgt_lang=tgt_lang, pairs=pairs)
        if result is not None and result.segment_extra:
            result.extra[FIELD] = severity_counts(result.segment_extra[FIELD])
        return result


def _key(src: str, mt: str, ref: str | None) -> tuple[str, str, str | None]:
    return (src, mt, ref)
