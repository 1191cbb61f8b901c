"""A CTranslate2 system whose every output is as long, in target tokens, as its reference: the bench's stand-in
for real output lengths (random weights would stop at random lengths, or never)."""
from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from mteval.files import digest
from mteval.systems.batching import plan_batches
from mteval.systems.ctranslate2 import CT2Seq2Seq
from mteval.types import Translation


def share_length(total: int, weights: Sequence[int]) -> list[int]:
    """``total`` target tokens shared among the pieces a source was split into, in proportion to their
    source tokens (largest remainder), each piece at least one token: a segment the system translates
    sentence by sentence is forced to its reference's length as a whole."""
    count = len(weights)
    spare = max(total, count) - count  # one token each first, the rest by weight
    mass = [max(w, 0) for w in weights]
    if sum(mass) == 0:
        mass = [1] * count
    exact = [spare * w / sum(mass) for w in mass]
    shares = [int(x) for x in exact]
    behind = sorted(range(count), key=lambda i: (shares[i] - exact[i], i))  # largest remainder first
    for i in behind[: spare - sum(shares)]:
        shares[i] += 1
    return [1 + s for s in shares]


def force_pieces(system: Any, totals: dict[str, int], src_lang: str, forced: dict[str, int]) -> None:
    """Share each source's forced total among the sentences ``system`` splits it into (its own
    ``segment`` and ``count_tokens``), into ``forced`` (a sentence met twice keeps the longer length)."""
    for source, total in totals.items():
        pieces = [p for p in system.segment(source, src_lang) if p.strip()]
        for piece, n in zip(pieces, share_length(total, system.count_tokens(pieces)), strict=True):
            forced[piece] = max(n, forced.get(piece, 0))


#: The bench Marian's filler ids (``▁<123>``: ids past the SentencePiece pieces, up to the real vocabulary's size).
_FILLER = re.compile(r"^▁<\d+>$")


def usable_ids(tokenizer: Any) -> list[int]:
    """Target ids a stand-in output draws from: the SentencePiece pieces, not special tokens, target-language
    tokens (``>>cmn_Hans<<``) or the bench model's fillers."""
    special = set(tokenizer.all_special_ids)
    tokens = tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))
    return [i for i, tok in enumerate(tokens)
            if i not in special and not _FILLER.match(tok) and not tok.startswith(">>")]


def stand_in(tokenizer: Any, usable: Sequence[int], n: int, key: str) -> str:
    """``n`` random pieces of the real vocabulary, decoded: what a random-weight model's output is replaced by.

    A random model repeats one token (the first full bench run gave 175 distinct outputs of 2,037, differing
    only in length), and COMET embeds each distinct text once, so its cost for such hypotheses would be a
    tenth of a real system's. The draw is seeded by ``key`` (model and source), so a model writes the same
    text for a source every run, and another model writes another."""
    rng = random.Random(key)
    return tokenizer.decode([rng.choice(usable) for _ in range(n)], skip_special_tokens=True).strip()


class StandIns:
    """:func:`stand_in` outputs for one model: its usable ids read once, each draw keyed by the model and source."""

    def __init__(self, tokenizer: Any, model_key: Sequence[str | None]):
        self.tokenizer = tokenizer
        self.usable = usable_ids(tokenizer)
        self.model_key = list(model_key)

    def __call__(self, n: int, source: str) -> str:
        return stand_in(self.tokenizer, self.usable, n, digest([*self.model_key, source], 16))


def length_batches(lengths: Sequence[int], source_tokens: Sequence[int], *, batch_size: int,
                   max_tokens: int | None) -> list[tuple[int, list[int]]]:
    """``(forced length, indices)`` batches: only sentences of one forced length share a batch (CTranslate2's
    minimum and maximum decoding lengths are per batch), each bounded by count and padded source tokens as
    the system's own batches are; longest first, as the system plans them."""
    by_length: dict[int, list[int]] = {}
    for i, n in enumerate(lengths):
        by_length.setdefault(n, []).append(i)
    out = []
    for n in sorted(by_length, reverse=True):
        group = by_length[n]
        for batch in plan_batches([source_tokens[i] for i in group], batch_size=batch_size, max_tokens=max_tokens):
            out.append((n, [group[j] for j in batch]))
    return out


class ForcedLengthCT2(CT2Seq2Seq):
    """:class:`~mteval.systems.ctranslate2.CT2Seq2Seq` with each output forced to its reference's length.

    Everything else is the configured system's: tokenizer, target token, beam settings, threads,
    compute type. Sentences are batched by equal forced length across all it is given (the bench
    hands it the whole test set at once), and each batch decodes with minimum = maximum decoding
    length, so the decoding cost is that of outputs as long as the references, whatever the weights.

    Args:
        references: a JSON file mapping each source segment to its reference.
        settings: :class:`~mteval.systems.ctranslate2.CT2Seq2Seq`'s keyword settings, as its YAML gives them.
    """

    def __init__(self, *, references: str, **settings: Any):
        super().__init__(**settings)
        self.references = references
        self._refs: dict[str, str] | None = None
        self._forced: dict[str, int] = {}
        self._stand_ins: StandIns | None = None
        #: seconds spent loading the model, and working out forced lengths (not part of a real run)
        self.load_seconds = 0.0
        self.forcing_seconds = 0.0

    def load(self) -> None:
        if self._translator is None:
            start = time.perf_counter()
            super().load()
            self.load_seconds += time.perf_counter() - start

    def _reference_map(self) -> dict[str, str]:
        if self._refs is None:
            self._refs = json.loads(Path(self.references).read_text(encoding="utf-8"))
        return self._refs

    def fingerprint(self) -> dict[str, Any]:
        return {**super().fingerprint(), "forced_lengths": digest(self._reference_map(), 16)}

    def _stand_in(self, n: int, source: str) -> str:
        start = time.perf_counter()
        if self._stand_ins is None:
            self._stand_ins = StandIns(self.tokenizer, [self.model_id, self.revision])
        text = self._stand_ins(n, source)
        self.forcing_seconds += time.perf_counter() - start
        return text

    def target_tokens(self, texts: list[str]) -> list[int]:
        """Tokens of each text as the model's target side writes it (its end token not counted)."""
        ids = self.tokenizer(text_target=texts, add_special_tokens=True)["input_ids"]
        return [len(i) - 1 for i in ids]

    def translate(self, sources: Sequence[str], *, src_lang: str, tgt_lang: str) -> Translation:
        start, loading = time.perf_counter(), self.load_seconds
        refs = self._reference_map()
        todo = [s for s in dict.fromkeys(sources) if s.strip()]
        totals = self.target_tokens([refs[s] for s in todo]) if todo else []
        force_pieces(self, dict(zip(todo, totals, strict=True)), src_lang, self._forced)
        self.forcing_seconds += time.perf_counter() - start - (self.load_seconds - loading)  # the load is apart
        return super().translate(sources, src_lang=src_lang, tgt_lang=tgt_lang)

    def _translate_batches(self, batches: list[list[str]], *, src_lang: str, tgt_lang: str) -> Iterator[list[str]]:
        self.load()
        start = time.perf_counter()
        texts = [t for batch in batches for t in batch]
        limit = self._decoding["max_decoding_length"]
        lengths = [min(self._forced[t], limit) for t in texts]
        plan = length_batches(lengths, self.count_tokens(texts), batch_size=self.batch_size,
                              max_tokens=self.max_tokens)
        self.forcing_seconds += time.perf_counter() - start
        parallel = self._translator.num_translators > 1
        submitted = []
        for n, idx in plan:
            inputs = {**self.engine_inputs([texts[i] for i in idx], src_lang, tgt_lang),
                      "min_decoding_length": n, "max_decoding_length": n}
            submitted.append((idx, self._translator.translate_batch(**inputs, asynchronous=parallel)))
        done: dict[str, str] = {}
        for (n, idx), (_, results) in zip(plan, submitted, strict=True):
            results = [r.result() for r in results] if parallel else results
            self._outputs(results, tgt_lang)  # decoded as a real run decodes them, then replaced (stand_in)
            done.update((texts[i], self._stand_in(n, texts[i])) for i in idx)
        for batch in batches:
            yield [done[t] for t in batch]
