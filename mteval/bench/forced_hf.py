"""The HF backend with every output as long as a given target length: `make bench-eval`'s stand-in for real
output lengths (random weights stop at random lengths, or never), and the lengths it is given."""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mteval.bench.forced import StandIns, force_pieces
from mteval.files import digest
from mteval.systems.hf_seq2seq import HFSeq2Seq
from mteval.types import Translation


def forced_totals(ref_tokens: Sequence[int | None], src_tokens: Sequence[int], ratio: float) -> list[int]:
    """Each segment's forced length in target tokens: its reference's where it has one, else its source's
    token count times ``ratio`` (target per source token, measured on WMT22 en-zh), at least one."""
    return [max(1, r if r is not None else round(s * ratio)) for r, s in zip(ref_tokens, src_tokens, strict=True)]


def batch_length(forced: dict[str, int], sentences: Sequence[str], limit: int) -> int:
    """A batch's forced length: its longest sentence's (``generate`` runs a batch until its longest output
    ends, the finished rows padded along, so the batch costs what outputs of these lengths cost), capped
    at ``max_new_tokens``."""
    return min(max(forced[s] for s in sentences), limit)


class ForcedLengthHF(HFSeq2Seq):
    """:class:`~mteval.systems.hf_seq2seq.HFSeq2Seq` whose every batch decodes exactly its forced length.

    Everything else is the configured system's: tokenizer, target token, beams, batches (planned as
    the system plans them), parallel batches, dtype. Each segment's total is shared among the
    sentences it is split into; each batch then runs with ``min_new_tokens = max_new_tokens`` =
    its longest sentence's share.

    Args:
        lengths: a JSON file mapping each source segment to its forced length in target tokens.
        settings: :class:`~mteval.systems.hf_seq2seq.HFSeq2Seq`'s keyword settings, as its YAML gives them.
    """

    def __init__(self, *, lengths: str, **settings: Any):
        super().__init__(**settings)
        self.lengths = lengths
        self._totals: dict[str, int] | None = None
        self._forced: dict[str, int] = {}
        self._local = threading.local()  # the length of the batch this thread decodes
        self._stand_ins: StandIns | None = None
        #: seconds spent loading the model, and working out forced lengths (not part of a real run)
        self.load_seconds = 0.0
        self.forcing_seconds = 0.0

    def load(self) -> None:
        if self._model is None:
            start = time.perf_counter()
            super().load()
            self.load_seconds += time.perf_counter() - start

    def _length_map(self) -> dict[str, int]:
        if self._totals is None:
            self._totals = json.loads(Path(self.lengths).read_text(encoding="utf-8"))
        return self._totals

    def fingerprint(self) -> dict[str, Any]:
        return {**super().fingerprint(), "forced_lengths": digest(self._length_map(), 16)}

    def translate(self, sources: Sequence[str], *, src_lang: str, tgt_lang: str) -> Translation:
        start, loading = time.perf_counter(), self.load_seconds
        totals = self._length_map()
        force_pieces(self, {s: totals[s] for s in dict.fromkeys(sources) if s.strip()}, src_lang, self._forced)
        self.forcing_seconds += time.perf_counter() - start - (self.load_seconds - loading)  # the load is apart
        return super().translate(sources, src_lang=src_lang, tgt_lang=tgt_lang)

    def _translate_batch(self, sentences, *, src_lang, tgt_lang):
        self._local.length = batch_length(self._forced, sentences, self.max_new_tokens)
        super()._translate_batch(sentences, src_lang=src_lang, tgt_lang=tgt_lang)  # decoded as a real run does
        start = time.perf_counter()
        with self._tok_lock:  # the tokenizer is shared by the parallel batches' threads
            if self._stand_ins is None:
                self._stand_ins = StandIns(self.tokenizer, [self.model_id, self.revision])
            # then replaced, as ForcedLengthCT2 does: a random model repeats one token, and COMET embeds
            # each distinct text once; each sentence gets its own forced length, not the batch's
            outputs = [self._stand_ins(min(self._forced[s], self.max_new_tokens), s) for s in sentences]
            self.forcing_seconds += time.perf_counter() - start
        return outputs

    def generate_kwargs(self, tgt_code: str | None) -> dict[str, Any]:
        n = self._local.length
        return {**super().generate_kwargs(tgt_code), "min_new_tokens": n, "max_new_tokens": n}
