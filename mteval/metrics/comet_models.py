"""Loaded COMET models shared by every run in this process (a Hydra sweep's jobs), with their text embeddings."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mteval.metrics.comet_embed import EmbeddingStore
from mteval.metrics.precision import autocast, quantize_encoder


@dataclass
class SharedComet:
    """One COMET model at one precision on one device, and the sentence embeddings it has computed there."""

    model: Any
    embeddings: EmbeddingStore = field(default_factory=EmbeddingStore)


#: (content identity, resolved precision, device) -> entry. Hydra's basic launcher runs a sweep's
#: jobs one after another in this process, each instantiating its metrics afresh; without this each
#: job would load the checkpoint again (XLM-R large: 2.3 GB) and re-embed the same sources and references.
_ENTRIES: dict[tuple[str, str, str], SharedComet] = {}


def shared_comet(identity: str, precision: str, device: str, load: Callable[[], Any]) -> SharedComet:
    """The process's entry for a model by content identity, precision and device, loaded by ``load`` on
    first use. Identity is by content (#10), so weights swapped at the same path load anew."""
    key = (identity, precision, device)
    if key not in _ENTRIES:
        model = load()
        hold_encoder_at(model, precision)
        _ENTRIES[key] = SharedComet(model)
    return _ENTRIES[key]


def hold_encoder_at(model: Any, precision: str) -> None:
    """Run the encoder, and only the encoder, at the reduced precision; everything after it in fp32.

    Its weights are cast once: left in fp32, autocast re-casts every weight of every layer on every
    batch (on a 2-core CPU that copying took 45% of an XLM-R-large forward and left bf16 only 1.1x
    faster than fp32). Its forward runs under autocast and its outputs (hidden states of every layer)
    are cast to fp32, so the layer mix, pooling and the estimator or unified head compute in fp32
    whichever path calls the encoder (comet's ``predict`` or the embedding path). Under autocast the
    head ran in bf16 too and rounded every score to bf16: 128 values between 0.5 and 1 (issue 20).
    """
    if precision == "32":
        return
    if precision == "int8":  # linear layers quantised in place; the forward stays fp32 in and out
        quantize_encoder(model.encoder)
        return
    import torch

    encoder = model.encoder
    encoder.to(torch.bfloat16 if precision == "bf16-mixed" else torch.float16)
    reduced = type(encoder).forward.__get__(encoder)  # the class's forward, bound (not a wrapper set before)

    def forward(*args: Any, **kwargs: Any) -> Any:
        device = next(encoder.parameters()).device.type
        with autocast(precision, device):
            out = reduced(*args, **kwargs)
        return {key: _to_fp32(value) for key, value in out.items()}

    encoder.forward = forward  # nn.Module.__call__ looks forward up on the instance first


def _to_fp32(value: Any) -> Any:
    """A floating tensor (or a tuple of them, as the encoder's ``all_layers``) cast to fp32; others as they are."""
    if isinstance(value, (tuple, list)):
        return type(value)(_to_fp32(v) for v in value)
    if hasattr(value, "is_floating_point") and value.is_floating_point():
        return value.float()
    return value


def release_all() -> None:
    """Forget every shared model and embedding (their memory is freed once no metric holds them)."""
    _ENTRIES.clear()
