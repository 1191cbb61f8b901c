"""COMET (reference-based) and CometKiwi (reference-free) through unbabel-comet."""
from __future__ import annotations

import logging
import os
import random
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any

from mteval import validate
from mteval.errors import ConfigError
from mteval.hub.availability import ModelRef
from mteval.metrics.base import MAX_CHARS, Metric
from mteval.metrics.comet_files import checkpoint_path, comet_models
from mteval.hub.device import resolve_device
from mteval.hub.loading import model_error, weights_error
from mteval.signature import Signature, model_ref, reference_fields
from mteval.stats.intervals import mean_ci
from mteval.types import MetricResult
from mteval.metrics.comet_models import shared_comet
from mteval.metrics.precision import COMET_SYSTEM_DELTA, int8_earns_auto, resolve_precision
from mteval.hub.identity import model_identity
from mteval.metrics.comet_embed import is_regression, regression_scores
from mteval.metrics.comet_cache import embedding_store
from mteval.cache import Cache

log = logging.getLogger(__name__)

#: Precision settings and what they mean here. unbabel-comet 2.2.7's ``predict`` builds its Lightning
#: Trainer without a precision (always 32-bit, whatever is set on the model), so mteval applies the
#: reduced precision itself, to the encoder only: its weights are held cast and its forward runs under
#: ``torch.autocast``; the layer mix, pooling and estimator run in fp32 on its fp32-cast outputs
#: (:func:`mteval.metrics.comet_models.hold_encoder_at`). Lightning's spellings are accepted;
#: "-true" half precisions (every weight and op cast) are not implemented and refused. ``auto`` is
#: the best the device runs natively (:func:`mteval.metrics.precision.resolve_precision`; int8: issue 21).
PRECISIONS = {"auto": "auto", "32": "32", "32-true": "32", "bf16": "bf16-mixed", "bf16-mixed": "bf16-mixed",
              "16": "16-mixed", "16-mixed": "16-mixed", "int8": "int8"}


class Comet(Metric):
    """A COMET model scoring (src, mt, ref) triples, or (src, mt) pairs for QE models.

    Args:
        model: Hub id (``Unbabel/wmt22-comet-da``) or a local checkpoint/directory.
        revision: Hub revision.
        name: the metric name in results (``comet`` or ``cometkiwi``).
        reference_free: a QE model (CometKiwi); scores every segment, reference or not.
        batch_size: segments per forward pass (COMET sorts them by length).
        device: ``auto`` (a GPU when present), ``cpu``, ``cuda`` or ``cuda:N``; the signature names the resolved one.
        precision: ``auto`` (bf16 on CPUs with AVX-512 BF16 or AMX and on bf16 GPUs, fp16 on older
            GPUs, else 32), ``32``, ``bf16``, ``16`` (GPU only) or ``int8`` (CPU only); the signature names
            the resolved one.
        cpu_threads: torch intra-op threads on CPU (None leaves torch's default).
        multi_ref: how to combine several references: ``mean`` of per-reference segment scores, or
            ``first`` to use only the first reference.
        max_segments: a CPU budget: score at most this many segments, drawn by
            :func:`stratified_subset` (stratified by source length), and report their mean with a
            bootstrap 95% CI (``extra``: ``subset``, ``ci95``); the other segments get None. None
            scores every segment.
        subset_seed: the seed of that draw and of the bootstrap.
        max_chars: the longest text (characters) scored; a longer one is refused before translating
            (the model reads 512 tokens, but its tokenizer would first read all of it).
    """

    needs_src = True

    def __init__(
        self,
        *,
        model: str = "Unbabel/wmt22-comet-da",
        revision: str | None = None,
        name: str = "comet",
        reference_free: bool = False,
        batch_size: int = 16,
        device: str = "auto",
        precision: str = "32",
        cpu_threads: int | None = None,
        multi_ref: str = "mean",
        max_segments: int | None = None,
        subset_seed: int = 12345,
        max_chars: int = MAX_CHARS,
    ):
        self.model_id = validate.text("model", model)
        self.revision = revision
        self.name = validate.text("name", name)
        self.reference_free = validate.boolean("reference_free", reference_free)
        self.needs_ref = not reference_free
        self.batch_size = validate.integer("batch_size", batch_size, minimum=1)
        self.device = validate.device("device", device)
        self.precision = PRECISIONS[validate.choice("precision", str(precision), tuple(PRECISIONS))]
        self.cpu_threads = validate.integer("cpu_threads", cpu_threads, minimum=1, optional=True)
        self.multi_ref = validate.choice("multi_ref", multi_ref, ("mean", "first"))
        self.max_segments = validate.integer("max_segments", max_segments, minimum=2, optional=True)
        self.max_chars = validate.integer("max_chars", max_chars, minimum=1)
        self.subset_seed = validate.integer("subset_seed", subset_seed)
        self._model: Any = None
        self._cache: Cache | None = None

    def required_models(self) -> list[ModelRef]:
        return comet_models(self.model_id, self.revision, f"metrics.{self.name}")

    def preflight(self) -> None:
        """Locate the checkpoint (download or cache) and refuse a precision this device lacks, before
        any translation work starts."""
        self.resolved_precision()  # first: refusing it costs nothing, locating the checkpoint may download it
        checkpoint_path(self.model_id, self.revision)

    def use_cache(self, cache: Cache) -> None:
        """Keep source and reference embeddings in the run cache too (reference-based regression models)."""
        self._cache = cache

    def load(self) -> Any:
        """The model, loaded once per process for its content, precision and device (a sweep's runs share it)."""
        if self._model is None:

            self._shared = shared_comet(self.identity(), self.resolved_precision(), self._device(),
                                        self._load_checkpoint)
            self._model = self._shared.model
        return self._model

    def _load_checkpoint(self) -> Any:
        """Load the checkpoint; errors name the model and the fix."""
        # Lightning sets its own INFO loggers on import ("GPU available", tips); keep them quiet.
        for logger in ("pytorch_lightning.utilities.rank_zero", "lightning.pytorch.utilities.rank_zero"):
            logging.getLogger(logger).setLevel(logging.WARNING)

        ckpt = checkpoint_path(self.model_id, self.revision)
        try:
            return load_checkpoint(ckpt, local_files_only=os.environ.get("HF_HUB_OFFLINE") == "1")
        except (OSError, ValueError) as err:
            raise model_error(self.model_id, err) from err
        except Exception as err:  # a truncated or refused model.ckpt: one line naming it; anything else re-raises
            damaged = weights_error(self.model_id, err, ckpt)
            if damaged is None:
                raise
            raise damaged from err

    def _device(self) -> str:
        return resolve_device(self.device, setting=f"metrics.{self.name}.device", kinds=("cpu", "cuda"))

    def resolved_precision(self) -> str:
        """The precision this metric runs at here (``auto`` resolved; a setting the device lacks refused)."""
        try:
            return resolve_precision(self.precision, "cpu" if self.precision == "32" else self._device(),
                                     auto_int8=int8_earns_auto(COMET_SYSTEM_DELTA))
        except ConfigError as err:  # name the setting as the config spells it
            raise ConfigError(f"metrics.{self.name}.{err}") from None

    def n_gpus(self) -> int:
        return 0 if self._device() == "cpu" else 1

    def identity(self) -> str:
        """The checkpoint by content (a Hub commit, or a digest of a local checkpoint), never by its
        path or branch alone: weights swapped at the same path must change the signature (#10)."""

        return model_identity(self.model_id, self.revision)

    def signature(self, n_refs: int) -> str:
        refs = reference_fields(n_refs, self.multi_ref, qe=self.reference_free)
        return str(Signature.of(model=model_ref(self.model_id, self.identity()), **refs,
                                batch_size=self.batch_size, precision=self.resolved_precision(),
                                device=self._device(), comet=version("unbabel-comet")))

    def _predict(self, samples: list[dict[str, str]]) -> list[float]:

        model = self.load()
        if is_regression(model):  # src/mt/ref embedded apart: length-batched, src and ref embeddings kept
            if not self.n_gpus() and self.cpu_threads:
                import torch

                torch.set_num_threads(self.cpu_threads)
            store = embedding_store(self._shared.embeddings, self._cache, model, identity=self.identity(),
                                    precision=self.resolved_precision(), device=self._device(), name=self.name)
            return regression_scores(model, samples, batch_size=self.batch_size, device=self._device(), store=store)
        return [float(s) for s in self._predict_output(samples).scores]

    def _predict_output(self, samples: list[dict[str, str]]) -> Any:
        """comet's ``predict`` output (scores, and metadata such as XCOMET's error spans)."""
        import torch

        model = self.load()
        gpus = self.n_gpus()
        if gpus == 0 and self.cpu_threads:
            torch.set_num_threads(self.cpu_threads)
        kwargs: dict[str, Any] = {"batch_size": self.batch_size, "gpus": gpus, "progress_bar": False}
        if not gpus:
            kwargs["accelerator"] = "cpu"
            kwargs["num_workers"] = 0
        else:  # the GPU the setting names (cuda:N), not whichever Lightning would pick
            kwargs["devices"] = [int(self._device().partition(":")[2] or 0)]
        return model.predict(samples, **kwargs)  # the encoder applies the precision itself (hold_encoder_at)

    def measure_inputs(self, hyps, refs, srcs):
        """Tokens of each segment's input as COMET builds it, <s> and </s> included, and the limit it cuts at.

        comet's ``prepare_sample`` cuts each text at ``max_length=max_positions - 2`` tokens, which in
        transformers counts the special tokens too: 510 for XLM-R (508 of text), not 512 (comet 2.2.7,
        comet/encoders/base.py). A unified model (CometKiwi, XCOMET) then joins its ``input_segments``
        (mt, src[, ref]) into one sequence ``<s> mt </s></s> src </s>`` and cuts that at
        ``max_positions`` (512), losing the end of the source; a text over 510 makes the joined
        sequence longer than 512 anyway. The length counted is that of the joined sequence (unified)
        or of the longest text (the others).
        """
        model = self.load()
        encoder = model.encoder
        unified = bool(getattr(model.hparams, "input_segments", None))
        limit = int(encoder.max_positions) - (0 if unified else 2)

        def count(texts: list[str]) -> list[int]:
            return [len(ids) for ids in encoder.tokenizer(texts)["input_ids"]] if texts else []

        fields = [count(hyps), count(srcs)]
        if not self.reference_free:
            use = 1 if self.multi_ref == "first" else max((len(r) for r in refs), default=0)
            per_ref = [count([r[k] if len(r) > k else "" for r in refs]) for k in range(use)]
            fields.append([max(col) for col in zip(*per_ref, strict=True)] if per_ref else [0] * len(hyps))
        if unified:  # one joined sequence
            used = 2 if self.reference_free or "ref" not in model.hparams.input_segments else 3
            return limit, [sum(col) for col in zip(*fields[:used], strict=True)]
        return limit, [max(col) for col in zip(*fields, strict=True)]

    def _score(self, hyps, refs, srcs, *, tgt_lang):
        n_refs = 0 if self.reference_free else max(len(r) for r in refs)
        if self.max_segments is None or len(hyps) <= self.max_segments:
            segs = self._segment_scores(hyps, refs, srcs)
            return MetricResult(self.name, sum(segs) / len(segs), self.signature(n_refs), segment_scores=segs)
        # CPU budget: score a length-stratified subset; its mean estimates the corpus score.
        subset = stratified_subset([len(s) for s in srcs], self.max_segments, seed=self.subset_seed)
        scores = self._segment_scores([hyps[i] for i in subset], [refs[i] for i in subset],
                                      [srcs[i] for i in subset])
        spread: list[float | None] = [None] * len(hyps)
        for i, s in zip(subset, scores, strict=True):
            spread[i] = s
        lo, hi = mean_ci(scores, seed=self.subset_seed)
        signature = f"{self.signature(n_refs)}|{Signature.of(subset=len(subset), seed=self.subset_seed)}"
        return MetricResult(self.name, sum(scores) / len(scores), signature, segment_scores=spread,
                            extra={"subset": len(subset), "ci95": [lo, hi]})

    def _segment_scores(self, hyps: list[str], refs: list[list[str]], srcs: list[str]) -> list[float]:
        """One score per segment: the QE score, or the reference-based score combined over references."""
        if self.reference_free:
            return self._predict([{"src": s, "mt": h} for s, h in zip(srcs, hyps, strict=True)])
        n_refs = max(len(r) for r in refs)
        use = 1 if self.multi_ref == "first" else n_refs
        per_ref: list[list[float | None]] = []
        for k in range(use):
            idx = [i for i, r in enumerate(refs) if len(r) > k]
            scores = self._predict([{"src": srcs[i], "mt": hyps[i], "ref": refs[i][k]} for i in idx])
            column: list[float | None] = [None] * len(hyps)
            for i, s in zip(idx, scores, strict=True):
                column[i] = s
            per_ref.append(column)
        segs = []
        for i in range(len(hyps)):
            vals = [c[i] for c in per_ref if c[i] is not None]
            segs.append(sum(vals) / len(vals))
        return segs


def load_checkpoint(ckpt: Path, *, local_files_only: bool) -> Any:
    """Load a COMET checkpoint as ``comet.load_from_checkpoint`` (2.2.7) does, with ``weights_only=True``.

    comet's loader leaves ``weights_only`` to torch's default, which was False before torch 2.6
    (a pickle that can run code); Lightning's ``load_from_checkpoint`` takes the flag explicitly.
    """
    import torch
    import yaml
    from comet.models import str2model

    hparams_file = ckpt.parents[1] / "hparams.yaml"
    if not hparams_file.is_file():
        raise ValueError(f"{hparams_file} is missing: not a COMET checkpoint directory")
    hparams = yaml.safe_load(hparams_file.read_text(encoding="utf-8")) or {}
    model_class = str2model.get(hparams.get("class_identifier"))
    if model_class is None:
        raise ValueError(f"{hparams_file}: unknown COMET class_identifier {hparams.get('class_identifier')!r}")
    extra: dict[str, Any] = {}
    if hparams.get("layer_transformation") == "sparsemax_patch":  # comet >= 2.2.4's fix for its issue #244
        extra["layer_transformation"] = "softmax"
    return model_class.load_from_checkpoint(
        checkpoint_path=ckpt, load_pretrained_weights=False, hparams_file=None, map_location=torch.device("cpu"),
        strict=False, local_files_only=local_files_only, weights_only=True, **extra)


def stratified_subset(lengths: Sequence[int], k: int, *, seed: int) -> list[int]:
    """Draw ``k`` indices: one at random from each of ``k`` equal strata of the length-sorted order.

    Short and long segments are then represented in proportion, so the subset mean has less
    variance than a simple random sample's. Returns sorted indices; all of them when ``k >= n``.
    """
    n = len(lengths)
    if k >= n:
        return list(range(n))
    order = sorted(range(n), key=lambda i: (lengths[i], i))
    rng = random.Random(seed)
    return sorted(order[rng.randrange(s * n // k, (s + 1) * n // k)] for s in range(k))
