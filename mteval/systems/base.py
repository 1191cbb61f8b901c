"""The System interface and the shared sentence-level batching that neural backends use."""
from __future__ import annotations

import logging
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from mteval import validate
from mteval.errors import MtevalError
from mteval.systems.languages import check_direction, check_pairs, parse_direction
from mteval.text.sentences import join_sentences, split_long, split_sentences

log = logging.getLogger(__name__)


class System(ABC):
    """An MT system: turns source segments into hypotheses, one per source, in order."""

    name: str = "system"
    #: True for systems that run a model (loaded lazily); False for file/copy baselines.
    uses_model: bool = False

    @abstractmethod
    def translate(self, sources: Sequence[str], *, src_lang: str, tgt_lang: str) -> list[str]:
        """Translate every source; the result has exactly ``len(sources)`` strings."""

    def fingerprint(self) -> dict[str, Any]:
        """Everything that determines the output for a given source (cache key and provenance)."""
        return {"class": type(self).__name__, "name": self.name}

    def check_inputs(self, sources: Sequence[str]) -> None:
        """Validate inputs before any model loads (e.g. a hypothesis file's line count)."""


def available_cores() -> int:
    """CPU cores this process may use: its affinity mask, shared with the other mteval runs on this
    machine (:mod:`mteval.cores`), so concurrent runs and sweep jobs do not oversubscribe the cores."""
    from mteval.cores import core_share

    return core_share()


def split_cores(cores: int, inter: int = 0, intra: int = 0) -> tuple[int, int]:
    """(parallel batches, threads per batch) on ``cores`` CPU cores; a 0 is chosen automatically:
    2 parallel batches where there are two or more cores, and the cores shared among them.

    On the 2-core bench machine, 2 batches of 1 thread gave 7-12% more tokens/s than 1 batch of
    2 threads, for CTranslate2 and for PyTorch alike: the small products of a decoding step
    gain little from a second thread."""
    inter = inter or (2 if cores >= 2 else 1)
    return inter, intra or max(1, cores // inter)


def plan_batches(lengths: Sequence[int], *, batch_size: int, max_tokens: int | None) -> list[list[int]]:
    """Group item indices into length-sorted batches bounded by count and by padded tokens.

    Sorting by length keeps padding small; ``max_tokens`` bounds ``len(batch) * longest``
    (the padded size the model really computes). Returns lists of original indices.
    """
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    batches: list[list[int]] = []
    current: list[int] = []
    longest = 0
    for i in order:
        new_longest = max(longest, lengths[i])
        too_many = len(current) >= batch_size
        too_big = max_tokens is not None and current and new_longest * (len(current) + 1) > max_tokens
        if current and (too_many or too_big):
            batches.append(current)
            current, new_longest = [], lengths[i]
        current.append(i)
        longest = new_longest
    if current:
        batches.append(current)
    return batches


class SentenceBatchedSystem(System):
    """Shared work for neural backends: split long segments into sentences, translate the
    sentences in length-sorted batches, restore the order and re-join them.

    Subclasses implement :meth:`_translate_batch` (a list of sentences in, same-length list out)
    and :meth:`count_tokens`. A sentence longer than ``max_input_tokens`` is split further at
    clause marks and spaces, counted and warned about; nothing is cut off silently.
    """

    uses_model = True

    def __init__(
        self,
        *,
        name: str,
        batch_size: int,
        max_tokens: int | None,
        max_input_tokens: int,
        split_sentences: bool,
        language_pairs: list[str] | None = None,
        direction: str | None = None,
    ):
        self.name = validate.text("name", name)
        #: the directions the model serves (None: not declared, any); checked before any model loads.
        self.language_pairs = check_pairs(language_pairs)
        if direction is not None:  # the run's direction, known at instantiation from ${dataset.direction}
            check_direction(name, getattr(self, "model_id", None), self.language_pairs, *parse_direction(direction))
        self.batch_size = validate.integer("batch_size", batch_size, minimum=1)
        self.max_tokens = validate.integer("max_tokens", max_tokens, minimum=1, optional=True)
        self.max_input_tokens = validate.integer("max_input_tokens", max_input_tokens, minimum=1)
        self.split_sentences = validate.boolean("split_sentences", split_sentences)
        self.n_split_further = 0
        #: set by the pipeline: called with (done, total) sentences after each batch.
        self.on_progress: Callable[[int, int], None] | None = None

    @abstractmethod
    def _translate_batch(self, sentences: list[str], *, src_lang: str, tgt_lang: str) -> list[str]:
        """Translate one batch of sentences."""

    @abstractmethod
    def count_tokens(self, texts: list[str]) -> list[int]:
        """Source token counts as the model sees them."""

    def segment(self, source: str, src_lang: str) -> list[str]:
        """Cut one source into pieces that each fit the model."""
        pieces = split_sentences(source, src_lang) if self.split_sentences else [source.strip()]
        pieces = [p for p in pieces if p] or [""]
        lengths = self.count_tokens(pieces)
        out: list[str] = []
        for piece, n in zip(pieces, lengths, strict=True):
            if n <= self.max_input_tokens:
                out.append(piece)
                continue
            # Characters per token of this piece tells how many characters fit.
            max_chars = max(1, int(len(piece) * self.max_input_tokens / n * 0.9))
            parts = split_long(piece, max_chars)
            self.n_split_further += 1
            log.warning(
                "%s: a sentence of %d tokens exceeds max_input_tokens=%d; split into %d pieces",
                self.name, n, self.max_input_tokens, len(parts),
            )
            out.extend(parts)
        return out

    def translate(self, sources: Sequence[str], *, src_lang: str, tgt_lang: str) -> list[str]:
        """Translate sources sentence by sentence in length-sorted batches.

        A batch that runs out of GPU memory is halved and retried (down to one sentence), and
        later batches are capped at the size that fitted, so one long batch does not end a run.
        """
        check_direction(self.name, getattr(self, "model_id", None), self.language_pairs, src_lang, tgt_lang)
        pieces_per_source = [self.segment(s, src_lang) for s in sources]
        flat = [p for pieces in pieces_per_source for p in pieces]
        unique = list(dict.fromkeys(p for p in flat if p.strip()))
        lengths = self.count_tokens(unique) if unique else []
        done: dict[str, str] = {"": ""}
        finished = 0
        batches = [[unique[i] for i in batch]
                   for batch in plan_batches(lengths, batch_size=self.batch_size, max_tokens=self.max_tokens)]
        for texts, outs in zip(batches, self._translate_batches(batches, src_lang=src_lang, tgt_lang=tgt_lang),
                               strict=True):
            done.update(zip(texts, outs, strict=True))
            finished += len(texts)
            if self.on_progress is not None:
                self.on_progress(finished, len(unique))
        # Kept per source for the metrics: one with an input limit scores an over-long segment by these
        # (sentence, translation) pairs instead of cutting it (issue 10, item 4).
        self.last_sentence_pairs = [[(p, done[p] if p.strip() else "") for p in pieces]
                                    for pieces in pieces_per_source]
        return [join_sentences([h for _, h in pairs], tgt_lang) for pairs in self.last_sentence_pairs]

    def _translate_batches(self, batches: list[list[str]], *, src_lang: str,
                           tgt_lang: str) -> Iterator[list[str]]:
        """Outputs of each planned batch, in order; one at a time here, a backend may overlap them."""
        from mteval.cores import size_thread_pools

        for texts in batches:
            size_thread_pools()  # follow this run's share of the cores as other runs start and end
            yield self._translate_fitting(texts, src_lang=src_lang, tgt_lang=tgt_lang)

    def _translate_fitting(self, texts: list[str], *, src_lang: str, tgt_lang: str) -> list[str]:
        """Translate ``texts`` in parts no larger than the largest batch known to fit in memory."""
        outs: list[str] = []
        while len(outs) < len(texts):
            cap = getattr(self, "_oom_cap", None) or len(texts)
            part = texts[len(outs) : len(outs) + cap]
            try:
                got = self._translate_batch(part, src_lang=src_lang, tgt_lang=tgt_lang)
            except Exception as err:  # noqa: BLE001 - only out-of-memory is handled; the rest re-raises
                if not _is_oom(err):
                    raise
                if len(part) == 1:
                    raise MtevalError(f"{self.name}: out of GPU memory on a single sentence of {len(part[0])} "
                                      "characters; lower max_new_tokens or max_input_tokens, or use a smaller "
                                      "dtype or model") from err
                _free_gpu_memory()
                self._oom_cap = max(1, len(part) // 2)
                log.warning("%s: out of GPU memory on a batch of %d sentences; retrying in batches of %d",
                            self.name, len(part), self._oom_cap)
                continue
            if len(got) != len(part):
                raise RuntimeError(f"{self.name}: backend returned {len(got)} outputs for {len(part)} inputs")
            outs.extend(got)
        return outs

    def fingerprint(self) -> dict[str, Any]:
        return {
            **super().fingerprint(),
            "split_sentences": self.split_sentences,
            "max_input_tokens": self.max_input_tokens,
        }


def _is_oom(err: BaseException) -> bool:
    """True for CUDA (or other accelerator) out-of-memory errors, checked without importing torch."""
    torch = sys.modules.get("torch")
    oom = getattr(getattr(torch, "cuda", None), "OutOfMemoryError", None)
    if oom is not None and isinstance(err, oom):
        return True
    return isinstance(err, RuntimeError) and "out of memory" in str(err).lower()


def _free_gpu_memory() -> None:
    """Release cached blocks so the retry starts from a clean allocator."""
    import gc

    gc.collect()
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()
