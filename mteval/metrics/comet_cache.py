"""COMET sentence embeddings kept in the run cache, so a later process embeds only what it has not seen."""
from __future__ import annotations

import logging
import math
import zlib
from collections.abc import Iterable
from importlib.metadata import version
from typing import Any

from mteval.cache import Blob, Cache
from mteval.files import digest
from mteval.metrics.comet_embed import Embeddings, EmbeddingStore

log = logging.getLogger(__name__)

#: What in a COMET checkpoint's hparams decides a sentence embedding besides the weights: which layer (or
#: the learned mix of all), how the mix is normalised, pooling, and the encoder (hence its tokenizer).
LAYER_SETTINGS = ("encoder_model", "pretrained_model", "layer", "layer_transformation", "layer_norm", "pool")
#: The libraries whose kernels and tokenizer compute an embedding: a new version is a new key space.
LIBRARIES = ("torch", "transformers", "unbabel-comet")
#: Bumped whenever the stored bytes or the key change meaning.
FORMAT = 1


def embedding_space(model: Any, *, identity: str, precision: str, device: str) -> str:
    """The key prefix of ``model``'s embeddings: its content identity (Hub commit or checkpoint digest), the
    resolved precision (any string: a new one is a new space), the device kind, its layer settings, the
    encoder's input limit (texts are cut there) and the library versions."""
    hparams = model.hparams
    fields = {"format": FORMAT, "model": identity, "precision": precision, "device": device.partition(":")[0],
              "layer": {k: hparams.get(k) for k in LAYER_SETTINGS}, "max_positions": model.encoder.max_positions,
              "versions": {name: version(name) for name in LIBRARIES}}
    return digest(fields, 16)


def encode(row: Any) -> Blob:
    """A tensor as (dtype, shape, raw bytes, CRC-32): every bit kept, so a score from it equals recomputing."""
    import torch

    row = row.detach().to("cpu").contiguous()
    data = row.reshape(-1).view(torch.uint8).numpy().tobytes()
    return str(row.dtype).removeprefix("torch."), "x".join(map(str, row.shape)), data, zlib.crc32(data)


def decode(blob: Blob, shape: tuple[int, ...], device: str) -> Any:
    """The tensor a stored row holds, or None where it is not one of ``shape`` (wrong dtype, shape or
    length, truncated or altered bytes)."""
    import torch

    dtype_name, shape_text, data, crc = blob
    dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}.get(dtype_name)
    if (dtype is None or shape_text != "x".join(map(str, shape)) or not isinstance(data, bytes)
            or len(data) != math.prod(shape) * dtype.itemsize or zlib.crc32(data) != crc):
        return None
    return torch.frombuffer(bytearray(data), dtype=dtype).reshape(shape).to(device)


class PersistentEmbeddingStore:
    """An :class:`EmbeddingStore` (this process's, shared by a sweep) in front of the run cache's file.

    Looked-up texts come from memory, else from the file (checked; an unreadable row counts as missing,
    so it is embedded again and overwritten); what is put goes to both.
    """

    def __init__(self, memory: EmbeddingStore, cache: Cache, *, space: str, shape: tuple[int, ...], device: str,
                 name: str = "comet"):
        self.memory, self.cache = memory, cache
        self.space, self.shape, self.device, self.name = space, shape, device, name

    def _key(self, text: str) -> str:
        return f"{self.space}:{digest(text)}"

    def lookup(self, texts: Iterable[str]) -> dict[str, Any]:
        texts = list(dict.fromkeys(texts))
        found = self.memory.lookup(texts)
        keys = {self._key(t): t for t in texts if t not in found}
        read, bad = {}, 0
        for key, blob in self.cache.get_embeddings(list(keys)).items():
            row = decode(blob, self.shape, self.device)
            if row is None:
                bad += 1
            else:
                read[keys[key]] = row
        if bad:
            log.warning("%s: %d cached sentence embeddings in %s are unreadable (wrong dtype, shape or bytes); "
                        "embedding them again", self.name, bad, self.cache.path)
        self.memory.put(read, computed=False)
        found.update(read)
        self.cache.note_embedding_lookups(hits=len(found), misses=len(texts) - len(found), corrupt=bad)
        return found

    def put(self, rows: dict[str, Any], *, computed: bool = True) -> None:
        self.memory.put(rows, computed=computed)
        self.cache.put_embeddings({self._key(t): encode(r) for t, r in rows.items()})


def embedding_store(memory: EmbeddingStore, cache: Cache | None, model: Any, *, identity: str, precision: str,
                    device: str, name: str) -> Embeddings:
    """``memory`` alone without a run cache; else ``memory`` in front of the cache's embedding table."""
    if cache is None:
        return memory
    space = embedding_space(model, identity=identity, precision=precision, device=device)
    return PersistentEmbeddingStore(memory, cache, space=space, shape=(model.encoder.output_units,),
                                    device=device, name=name)
