"""The System interface and the shared sentence-level batching that neural backends use."""
from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from mteval import validate
from mteval.cores import size_thread_pools
from mteval.errors import ConfigError, MtevalError
from mteval.hub.availability import ModelRef
from mteval.systems.batching import free_gpu_memory, is_oom, plan_batches
from mteval.systems.languages import check_direction, check_pairs
from mteval.types import Direction
from mteval.text.sentences import join_sentences, split_long, split_sentences
from mteval.types import Corpus, Translation

log = logging.getLogger(__name__)


class System(ABC):
    """An MT system: turns source segments into hypotheses, one per source, in order.

    What the pipeline needs from a system is declared here: ``name``, ``uses_model`` (its outputs are
    cached), the models it loads (:meth:`required_models`, checked offline before anything loads),
    a check against the corpus before any work (:meth:`preflight`), what identifies its outputs
    (:meth:`fingerprint`) and :meth:`translate`, whose :class:`~mteval.types.Translation` carries the
    hypotheses, the sentence pairs and the counters: nothing is read back from the system afterwards.
    """

    name: str = "system"
    #: True for systems that run a model (loaded lazily; outputs cached); False for file/copy baselines.
    uses_model: bool = False
    #: The Hub id or local path of the model, and its Hub revision (None for systems without a model).
    model_id: str | None = None
    revision: str | None = None

    @abstractmethod
    def translate(self, sources: Sequence[str], *, src_lang: str, tgt_lang: str) -> Translation:
        """Translate every source; the result has exactly ``len(sources)`` hypotheses."""

    def fingerprint(self) -> dict[str, Any]:
        """Everything that determines the output for a given source (cache key and provenance)."""
        return {"class": type(self).__name__, "name": self.name}

    def required_models(self) -> list[ModelRef]:
        """The Hub models this system loads (checked before any model loads, fetched by ``mteval-prefetch``)."""
        if self.model_id is None:
            return []
        return [ModelRef(self.model_id, self.revision, "system", f"system {self.name}")]

    def preflight(self, corpus: Corpus) -> None:
        """Validate the corpus against the system before any model loads (e.g. a hypothesis file's line
        count, the direction a model serves)."""

    def pending(self, sources: Sequence[str], *, src_lang: str, tgt_lang: str) -> list[str]:
        """The distinct sources a :meth:`translate` call would translate (a cache answers the others)."""
        return list(dict.fromkeys(sources))

    def note_capped(self, capped: int) -> None:
        """Count and warn about outputs that filled ``max_new_tokens`` (cut off by the bound, never silent)."""
        if capped:
            self.count("outputs_length_capped", capped)
            log.warning("%s: %d output(s) reached max_new_tokens=%d and may be cut off; raise %s.max_new_tokens",
                        self.name, capped, self.max_new_tokens, self.config_path)

    def warn_long_sources(self, corpus: Corpus, which: set[str]) -> None:
        """Warn, with file:line, about sources the model cannot read whole (systems with an input limit)."""

    @property
    def counters(self) -> Counter[str]:
        """Events counted over this system's life (``outputs_length_capped``, ``sentences_split_further``)."""
        found = self.__dict__.get("_counters")
        if found is None:
            found = self.__dict__["_counters"] = Counter()
        return found

    def count(self, event: str, n: int = 1) -> None:
        """Count ``n`` occurrences of ``event`` (backends may call this from worker threads)."""
        if n:
            with _COUNT_LOCK:
                self.counters[event] += n

    def counted_since(self, before: Counter[str]) -> dict[str, int]:
        """The counts added since ``before`` (a copy of :attr:`counters`), for one call's Translation."""
        return {k: v - before.get(k, 0) for k, v in self.counters.items() if v - before.get(k, 0)}


_COUNT_LOCK = threading.Lock()


class SentenceBatchedSystem(System):
    """Shared work for neural backends: split long segments into sentences, translate the
    sentences in length-sorted batches, restore the order and re-join them.

    Subclasses implement :meth:`_translate_batch` (a list of sentences in, same-length list out)
    and :meth:`count_tokens`. A sentence longer than ``max_input_tokens`` is split further at
    clause marks and spaces, counted and warned about; nothing is cut off silently.
    """

    uses_model = True
    #: Where this system's settings live, for messages (an LLM judge's chat model says ``metrics.<name>``).
    config_path: str = "system"
    max_new_tokens: int

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
            langs = Direction.parse(direction)
            check_direction(name, self.model_id, self.language_pairs, langs.src, langs.tgt)
        self.batch_size = validate.integer("batch_size", batch_size, minimum=1)
        self.max_tokens = validate.integer("max_tokens", max_tokens, minimum=1, optional=True)
        self.max_input_tokens = validate.integer("max_input_tokens", max_input_tokens, minimum=1)
        self.split_sentences = validate.boolean("split_sentences", split_sentences)
        self._oom_cap: int | None = None
        #: set by the pipeline: called with (done, total) sentences after each batch.
        self.on_progress: Callable[[int, int], None] | None = None

    @abstractmethod
    def _translate_batch(self, sentences: list[str], *, src_lang: str, tgt_lang: str) -> list[str]:
        """Translate one batch of sentences."""

    @abstractmethod
    def count_tokens(self, texts: list[str]) -> list[int]:
        """Source token counts as the model sees them."""

    def segment(self, source: str, src_lang: str) -> list[str]:
        """Cut one source into pieces that each fit the model.

        A sentence over ``max_input_tokens`` is cut at clause marks, then spaces, then anywhere, at
        the length its average characters per token allows; every piece is then measured again
        with the model's tokenizer and cut again until it fits, since the average misleads on an
        uneven line (issue 23: prose then base64 gave an 885-token piece for 512 positions).

        Raises:
            ConfigError: ``max_input_tokens`` is below what one character takes (with special tokens).
        """
        limit = self.max_input_tokens
        pieces = split_sentences(source, src_lang) if self.split_sentences else [source.strip()]
        pieces = [p for p in pieces if p] or [""]
        out: list[str] = []
        for piece, n in zip(pieces, self.count_tokens(pieces), strict=True):
            if n <= limit:
                out.append(piece)
                continue
            fitted: list[str] = []
            todo, rounds = [(piece, n)], 0
            while todo:  # depth first, so the pieces stay in order
                text, count = todo.pop()
                if count <= limit:
                    fitted.append(text)
                    continue
                if len(text) <= 1:
                    raise ConfigError(f"{self.name}: max_input_tokens={limit} is less than one character "
                                      f"takes ({text!r} is {count} tokens with the model's special tokens)")
                rounds += 1
                # This piece's characters per token tell how many characters should fit.
                parts = split_long(text, max(1, min(len(text) - 1, int(len(text) * limit / count * 0.9))))
                todo.extend(reversed(list(zip(parts, self.count_tokens(parts), strict=True))))
            self.count("sentences_split_further")
            log.warning("%s: a sentence of %d tokens exceeds max_input_tokens=%d; split into %d pieces, each "
                        "measured again with the tokenizer (%d round%s of cutting)", self.name, n, limit, len(fitted),
                        rounds, "" if rounds == 1 else "s")
            out.extend(fitted)
        return out

    def warn_long_sources(self, corpus: Corpus, which: set[str], *, show: int = 5) -> None:
        """Warn, with file:line, about sources with a sentence longer than ``max_input_tokens``.

        Such a sentence is split further at clause marks (never truncated), which can change the
        translation; the warning says where, so the user can check. Counting tokens needs the
        tokenizer, so the pipeline asks only when there is something to translate.
        """
        segs = [s for s in corpus.segments if s.src in which]
        pieces = [split_sentences(s.src, corpus.src_lang) if self.split_sentences else [s.src] for s in segs]
        flat = [p for ps in pieces for p in ps]
        counts = iter(self.count_tokens(flat) if flat else [])
        long = []
        for seg, ps in zip(segs, pieces, strict=True):
            longest = max((next(counts) for _ in ps), default=0)
            if longest > self.max_input_tokens:
                long.append((seg, longest))
        for seg, n in long[:show]:
            log.warning("%s: a sentence of %d tokens is longer than %s's max_input_tokens=%d; it is split at "
                        "clause marks before translating", seg.origin or seg.id, n, self.name, self.max_input_tokens)
        if len(long) > show:
            log.warning("%d more sources have a sentence longer than max_input_tokens=%d", len(long) - show,
                        self.max_input_tokens)

    def translate(self, sources: Sequence[str], *, src_lang: str, tgt_lang: str) -> Translation:
        """Translate sources sentence by sentence in length-sorted batches.

        A batch that runs out of GPU memory is halved and retried (down to one sentence), and
        later batches are capped at the size that fitted, so one long batch does not end a run.
        """
        check_direction(self.name, self.model_id, self.language_pairs, src_lang, tgt_lang)
        before = self.counters.copy()
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
        pairs = [[(p, done[p] if p.strip() else "") for p in pieces] for pieces in pieces_per_source]
        return Translation([join_sentences([h for _, h in ps], tgt_lang) for ps in pairs],
                           [ps if len(ps) > 1 else None for ps in pairs], self.counted_since(before))

    def _translate_batches(self, batches: list[list[str]], *, src_lang: str,
                           tgt_lang: str) -> Iterator[list[str]]:
        """Outputs of each planned batch, in order; one at a time here, a backend may overlap them."""
        for texts in batches:
            size_thread_pools()  # follow this run's share of the cores as other runs start and end
            yield self._translate_fitting(texts, src_lang=src_lang, tgt_lang=tgt_lang)

    def _translate_fitting(self, texts: list[str], *, src_lang: str, tgt_lang: str) -> list[str]:
        """Translate ``texts`` in parts no larger than the largest batch known to fit in memory."""
        outs: list[str] = []
        while len(outs) < len(texts):
            cap = self._oom_cap or len(texts)
            part = texts[len(outs) : len(outs) + cap]
            try:
                got = self._translate_batch(part, src_lang=src_lang, tgt_lang=tgt_lang)
            except Exception as err:  # noqa: BLE001 - only out-of-memory is handled; the rest re-raises
                if not is_oom(err):
                    raise
                if len(part) == 1:
                    raise MtevalError(f"{self.name}: out of GPU memory on a single sentence of {len(part[0])} "
                                      "characters; lower max_new_tokens or max_input_tokens, or use a smaller "
                                      "dtype or model") from err
                free_gpu_memory()
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
