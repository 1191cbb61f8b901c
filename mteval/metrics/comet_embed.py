"""COMET regression models (wmt22-comet-da) scored from sentence embeddings: texts batched by token length,
each distinct text embedded once, source and reference embeddings kept for the next system's run."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

#: Texts whose embeddings one store keeps (XLM-R large: 4 KB each, so about 400 MB at most); the oldest go first.
MAX_TEXTS = 100_000


class EmbeddingStore:
    """Sentence embeddings of source and reference texts by text, oldest dropped past ``max_texts``."""

    def __init__(self, max_texts: int = MAX_TEXTS):
        self.max_texts = max_texts
        self._rows: dict[str, Any] = {}
        self.embedded = 0  # texts put in over the store's life (what a test counts)

    def __contains__(self, text: str) -> bool:
        return text in self._rows

    def __len__(self) -> int:
        return len(self._rows)

    def get(self, text: str) -> Any:
        return self._rows[text]

    def lookup(self, texts: Iterable[str]) -> dict[str, Any]:
        """The embeddings held for those of ``texts`` it has."""
        return {t: self._rows[t] for t in texts if t in self._rows}

    def clear(self) -> None:
        self._rows.clear()

    def put(self, rows: dict[str, Any], *, computed: bool = True) -> None:
        """Keep ``rows``; ``computed``: embedded just now (counted), not read from a cache file."""
        self._rows.update(rows)
        self.embedded += len(rows) if computed else 0
        while len(self._rows) > self.max_texts:
            del self._rows[next(iter(self._rows))]


class Embeddings(Protocol):
    """What :func:`regression_scores` asks of a store: this process's :class:`EmbeddingStore`, or one in
    front of the run cache (:class:`mteval.metrics.comet_cache.PersistentEmbeddingStore`)."""

    def lookup(self, texts: Iterable[str]) -> dict[str, Any]: ...

    def put(self, rows: dict[str, Any], *, computed: bool = True) -> None: ...


def is_regression(model: Any) -> bool:
    """A model whose forward this module reproduces: comet's reference-based ``RegressionMetric`` itself
    (src, mt and ref embedded each on its own, then ``estimate``), without Monte Carlo dropout.

    The class must match exactly: a subclass may change the forward, as ``ReferencelessRegression``
    does (no reference; its own ``estimate``), and this path would fail on it with ``KeyError: 'ref'``
    (issue 20). Every other class, unified models (CometKiwi, XCOMET) included, goes through comet's
    own ``predict``."""
    from comet.models import RegressionMetric

    return type(model) is RegressionMetric and not getattr(model, "mc_dropout", 0)


def length_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Indices in batches of at most ``batch_size``, in order of length (ties in input order), so
    each batch pads only to its own longest text, as comet's ``length_batching`` intends (comet
    sorts whole samples by source characters; here each text is sorted by its own token count)."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def embed(model: Any, texts: Sequence[str], *, batch_size: int, device: str) -> dict[str, Any]:
    """Sentence embeddings of distinct ``texts`` (comet's ``get_sentence_embedding``: layer mix and
    pooling as the checkpoint says), tokenised and cut at the encoder's limit as comet does."""
    if not texts:
        return {}
    encoder = model.encoder
    limit = encoder.max_positions - 2  # comet's prepare_sample leaves room for <s> and </s>
    lengths = [len(ids) for ids in encoder.tokenizer(list(texts), truncation=True, max_length=limit)["input_ids"]]
    out: dict[str, Any] = {}
    for batch in length_batches(lengths, batch_size):
        chunk = [texts[i] for i in batch]
        inputs = encoder.prepare_sample(chunk)
        rows = model.get_sentence_embedding(inputs["input_ids"].to(device), inputs["attention_mask"].to(device))
        out.update(zip(chunk, rows, strict=True))
    return out


def regression_scores(model: Any, samples: Sequence[dict[str, str]], *, batch_size: int, device: str,
                      store: Embeddings) -> list[float]:
    """Scores of (src, mt, ref) samples, equal to comet's ``predict`` to float tolerance.

    Source and reference embeddings come from ``store`` where present and are added to it; those
    of the hypotheses are computed for this call only (a sweep's systems share sources and
    references, not outputs). The encoder applies the reduced precision itself, as on comet's path
    (:func:`mteval.metrics.comet_models.hold_encoder_at`); the rest runs in fp32, so scores are fp32.
    """
    import torch

    if next(model.parameters()).device.type != device:
        model.to(device)
    model.eval()  # dropout off, as comet's predict sets it
    with torch.inference_mode():
        kept = dict.fromkeys(t for s in samples for t in (s["src"], s["ref"]))
        rows = store.lookup(kept)
        new = embed(model, [t for t in kept if t not in rows], batch_size=batch_size, device=device)
        store.put(new)
        rows.update(new)
        rows.update(embed(model, list(dict.fromkeys(s["mt"] for s in samples if s["mt"] not in rows)),
                          batch_size=batch_size, device=device))
        scores: list[float] = []
        for start in range(0, len(samples), batch_size):
            chunk = samples[start : start + batch_size]
            src, mt, ref = (torch.stack([rows[s[k]] for s in chunk]) for k in ("src", "mt", "ref"))
            scores.extend(model.estimate(src, mt, ref).score.tolist())
    return scores
