"""COMET (reference-based) and CometKiwi (reference-free) through unbabel-comet."""
from __future__ import annotations

import logging
import os
from importlib.metadata import version
from pathlib import Path
from typing import Any

from mteval.metrics.base import Metric
from mteval.systems.hf_loading import model_error
from mteval.types import MetricResult

log = logging.getLogger(__name__)


def checkpoint_path(model: str, revision: str | None = None) -> Path:
    """Find a COMET checkpoint: a ``.ckpt`` file, a model directory, or a Hub id (downloaded or cached).

    We call ``snapshot_download`` ourselves rather than ``comet.download_model``, which turns
    every failure (offline, gated, typo) into the same "not supported by COMET" KeyError.
    """
    path = Path(model)
    if path.suffix == ".ckpt" and path.is_file():
        return path
    if (path / "checkpoints" / "model.ckpt").is_file():
        return path / "checkpoints" / "model.ckpt"
    from huggingface_hub import snapshot_download

    offline = os.environ.get("HF_HUB_OFFLINE") == "1"
    try:
        root = snapshot_download(repo_id=model, revision=revision, local_files_only=offline)
    except Exception as err:  # noqa: BLE001 - every Hub failure becomes one readable line
        raise model_error(model, err) from err
    return Path(root) / "checkpoints" / "model.ckpt"


class Comet(Metric):
    """A COMET model scoring (src, mt, ref) triples, or (src, mt) pairs for QE models.

    Args:
        model: Hub id (``Unbabel/wmt22-comet-da``) or a local checkpoint/directory.
        revision: Hub revision.
        name: the metric name in results (``comet`` or ``cometkiwi``).
        reference_free: a QE model (CometKiwi); scores every segment, reference or not.
        batch_size: segments per forward pass (COMET sorts them by length).
        gpus: ``auto`` uses one GPU when present, else the CPU; or 0 / 1.
        precision: Lightning precision on GPU (``32``, ``bf16-mixed``, ``16-mixed``).
        cpu_threads: torch intra-op threads on CPU (None leaves torch's default).
        multi_ref: how to combine several references: ``mean`` of per-reference segment scores, or
            ``first`` to use only the first reference.
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
    ):
        if multi_ref not in {"mean", "first"}:
            raise ValueError(f"multi_ref must be 'mean' or 'first', not {multi_ref!r}")
        self.model_id = model
        self.revision = revision
        self.name = name
        self.reference_free = reference_free
        self.needs_ref = not reference_free
        self.batch_size = batch_size
        self.gpus = gpus
        self.precision = precision
        self.cpu_threads = cpu_threads
        self.multi_ref = multi_ref
        self._model: Any = None

    def preflight(self) -> None:
        """Locate the checkpoint (download or cache) before any translation work starts."""
        checkpoint_path(self.model_id, self.revision)

    def load(self) -> Any:
        """Load the checkpoint once; errors name the model and the fix."""
        if self._model is None:
            from comet import load_from_checkpoint

            # Lightning sets its own INFO loggers on import ("GPU available", tips); keep them quiet.
            for logger in ("pytorch_lightning.utilities.rank_zero", "lightning.pytorch.utilities.rank_zero"):
                logging.getLogger(logger).setLevel(logging.WARNING)

            ckpt = checkpoint_path(self.model_id, self.revision)
            try:
                self._model = load_from_checkpoint(
                    str(ckpt), local_files_only=os.environ.get("HF_HUB_OFFLINE") == "1"
                )
            except (OSError, ValueError) as err:
                raise model_error(self.model_id, err) from err
        return self._model

    def n_gpus(self) -> int:
        if self.gpus == "auto":
            import torch

            return 1 if torch.cuda.is_available() else 0
        return int(self.gpus)

    def signature(self, n_refs: int) -> str:
        refs = "qe" if self.reference_free else f"nrefs:{n_refs}|multiref:{self.multi_ref if n_refs > 1 else 'none'}"
        return (f"model:{self.model_id}|rev:{self.revision or 'main'}|{refs}|bs:{self.batch_size}|"
                f"precision:{self.precision}|comet:{version('unbabel-comet')}")

    def _predict(self, samples: list[dict[str, str]]) -> list[float]:
        import torch

        model = self.load()
        gpus = self.n_gpus()
        if gpus == 0 and self.cpu_threads:
            torch.set_num_threads(self.cpu_threads)
        kwargs: dict[str, Any] = {"batch_size": self.batch_size, "gpus": gpus, "progress_bar": False}
        if gpus:
            model.trainer_precision = self.precision  # read by some comet versions; harmless otherwise
        else:
            kwargs["accelerator"] = "cpu"
            kwargs["num_workers"] = 0
        out = model.predict(samples, **kwargs)
        return [float(s) for s in out.scores]

    def _score(self, hyps, refs, srcs, *, tgt_lang):
        if self.reference_free:
            segs = self._predict([{"src": s, "mt": h} for s, h in zip(srcs, hyps, strict=True)])
            n_refs = 0
        else:
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
        corpus = sum(segs) / len(segs)
        return MetricResult(self.name, corpus, self.signature(n_refs), segment_scores=segs)
