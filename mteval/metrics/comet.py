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
from mteval.hub.loading import model_error, weights_error
from mteval.types import MetricResult

log = logging.getLogger(__name__)

#: Precision settings and what they mean here. unbabel-comet 2.2.7's ``predict`` builds its Lightning
#: Trainer without a precision (always 32-bit, whatever is set on the model), so mteval applies the
#: mixed precision itself with ``torch.autocast`` around ``predict``, over an encoder whose weights are
#: held cast (:func:`mteval.metrics.comet_models.hold_encoder_at`). Lightning's spellings are accepted;
#: "-true" half precisions (every weight and op cast) are not implemented and refused. ``auto`` is
#: the best the device runs natively (:func:`mteval.metrics.precision.resolve_precision`).
PRECISIONS = {"auto": "auto", "32": "32", "32-true": "32", "bf16": "bf16-mixed", "bf16-mixed": "bf16-mixed",
              "16": "16-mixed", "16-mixed": "16-mixed"}


class Comet(Metric):
    """A COMET model scoring (src, mt, ref) triples, or (src, mt) pairs for QE models.

    Args:
        model: Hub id (``Unbabel/wmt22-comet-da``) or a local checkpoint/directory.
        revision: Hub revision.
        name: the metric name in results (``comet`` or ``cometkiwi``).
        reference_free: a QE model (CometKiwi); scores every segment, reference or not.
        batch_size: segments per forward pass (COMET sorts them by length).
        gpus: ``auto`` uses one GPU when present, else the CPU; or 0 / 1.
        precision: ``auto`` (bf16 on CPUs with AVX-512 BF16 or AMX and on bf16 GPUs, fp16 on older
            GPUs, else 32), ``32``, ``bf16`` or ``16`` (GPU only); the signature names the resolved one.
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
        gpus: str | int = "auto",
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
        self.gpus = validate.choice("gpus", gpus, ("auto", 0, 1))
        self.precision = PRECISIONS[validate.choice("precision", str(precision), tuple(PRECISIONS))]
        self.cpu_threads = validate.integer("cpu_threads", cpu_threads, minimum=1, optional=True)
        self.multi_ref = validate.choice("multi_ref", multi_ref, ("mean", "first"))
        self.max_segments = validate.integer("max_segments", max_segments, minimum=2, optional=True)
        self.max_chars = validate.integer("max_chars", max_chars, minimum=1)
        self.subset_seed = validate.integer("subset_seed", subset_seed)
        self._model: Any = None

    def required_models(self) -> list[ModelRef]:
        return comet_models(self.model_id, self.revision, f"metrics.{self.name}")

    def preflight(self) -> None:
        """Locate the checkpoint (download or cache) and refuse a precision this device lacks, before
        any translation work starts."""
        self.resolved_precision()  # first: refusing it costs nothing, locating the checkpoint may download it
        checkpoint_path(self.model_id, self.revision)

    def load(self) -> Any:
        """The model, loaded once per process for its content, precision and device (a sweep's runs share it)."""
        if self._model is None:
            from mteval.metrics.comet_models import shared_comet

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
        return "cuda" if self.n_gpus() else "cpu"

    def resolved_precision(self) -> str:
        """The precision this metric runs at here (``auto`` resolved; a setting the device lacks refused)."""
        from mteval.metrics.precision import resolve_precision

        try:
            return resolve_precision(self.precision, "cpu" if self.precision == "32" else self._device())
        except ConfigError as err:  # name the setting as the config spells it
            raise ConfigError(f"metrics.{self.name}.{err}") from None

    def n_gpus(self) -> int:
        if self.gpus == "auto":
            import torch

            return 1 if torch.cuda.is_available() else 0
        return int(self.gpus)

    def identity(self) -> str:
        """The checkpoint by content (a Hub commit, or a digest of a local checkpoint), never by its
        path or branch alone: weights swapped at the same path must change the signature (#10)."""
        from mteval.hub.identity import model_identity

        return model_identity(self.model_id, self.revision)

    def signature(self, n_refs: int) -> str:
        refs = "qe" if self.reference_free else f"nrefs:{n_refs}|multiref:{self.multi_ref if n_refs > 1 else 'none'}"
        return (f"model:{self.model_id}|id:{self.identity()[:23]}|{refs}|bs:{self.batch_size}|"
                f"precision:{self.resolved_precision()}|comet:{version('unbabel-comet')}")

    def _predict(self, samples: list[dict[str, str]]) -> list[float]:
        from mteval.metrics.comet_embed import is_regression, regression_scores

        model = self.load()
        if is_regression(model):  # src/mt/ref embedded apart: length-batched, src and ref embeddings kept
            if not self.n_gpus() and self.cpu_threads:
                import torch

                torch.set_num_threads(self.cpu_threads)
            return regression_scores(model, samples, batch_size=self.batch_size, device=self._device(),
                                     precision=self.resolved_precision(), store=self._shared.embeddings)
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
        # Lightning runs predict in this thread, so an autocast region around it covers every forward.
        with autocast(self.resolved_precision(), "cuda" if gpus else "cpu"):
            return model.predict(samples, **kwargs)

    def measure_inputs(self, hyps, refs, srcs):
        """Tokens of each segment's input as COMET builds it, and the encoder's limit (512 for XLM-R).

        A unified model (CometKiwi) joins its ``input_segments`` (mt, src[, ref]) into one sequence
        ``<s> mt </s></s> src </s>`` and cuts it at the limit, losing the end of the source; the
        other models encode each text on its own and cut each one. The length counted is that of
        the joined sequence, or of the longest text.
        """
        model = self.load()
        encoder = model.encoder
        limit = int(encoder.max_positions)

        def count(texts: list[str]) -> list[int]:
            return [len(ids) for ids in encoder.tokenizer(texts)["input_ids"]] if texts else []

        fields = [count(hyps), count(srcs)]
        if not self.reference_free:
            use = 1 if self.multi_ref == "first" else max((len(r) for r in refs), default=0)
            per_ref = [count([r[k] if len(r) > k else "" for r in refs]) for k in range(use)]
            fields.append([max(col) for col in zip(*per_ref, strict=True)] if per_ref else [0] * len(hyps))
        if getattr(model.hparams, "input_segments", None):  # unified: one joined sequence
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
        lo, hi = bootstrap_ci(scores, seed=self.subset_seed)
        signature = f"{self.signature(n_refs)}|subset:{len(subset)}|seed:{self.subset_seed}"
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


def autocast(precision: str, device: str) -> Any:
    """The autocast region for a precision setting: none for 32; bf16 on CPU or a bf16-capable GPU;
    fp16 on GPU only (CPU fp16 autocast is slower than fp32 and not what anyone asks for)."""
    import contextlib

    import torch

    if precision == "32":
        return contextlib.nullcontext()
    if precision == "16-mixed" and device == "cpu":
        raise ConfigError("precision=16-mixed needs a GPU; on CPU use bf16-mixed or 32")
    if precision == "bf16-mixed" and device == "cuda" and not torch.cuda.is_bf16_supported():
        raise ConfigError("precision=bf16-mixed: this GPU has no bfloat16; use 16-mixed or 32")
    return torch.autocast(device_type=device, dtype=torch.bfloat16 if precision == "bf16-mixed" else torch.float16)


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


def bootstrap_ci(values: Sequence[float], *, seed: int, n_boot: int = 1000, level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of the mean of ``values``."""
    import numpy as np

    data = np.asarray(values, dtype=float)
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, len(data), size=(n_boot, len(data)))].mean(axis=1)
    tail = (1 - level) / 2 * 100
    lo, hi = np.percentile(means, [tail, 100 - tail])
    return float(lo), float(hi)
