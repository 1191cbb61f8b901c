"""CachedSystem: any system behind the translation cache, as lm-evaluation-harness's CachingLM wraps an LM."""
from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from mteval.cache import Cache, digest
from mteval.cores import size_thread_pools
from mteval.errors import ConfigError
from mteval.systems.base import System
from mteval.types import Corpus, SentencePairs, Translation

log = logging.getLogger(__name__)


class CachedSystem(System):
    """Answer what the cache holds, translate the rest chunk by chunk, and cache each chunk.

    Keyed by the wrapped system's fingerprint and the direction. The sentence pairs of a
    sentence-by-sentence system are cached beside the translations (key + ``/sentences``), so a
    resumed or repeated run still has them for the metrics that score long segments by sentences.
    A run killed mid-way keeps every finished chunk (each is one SQLite transaction), so a restart
    translates only what is missing. Before each chunk the cache is asked again, so two runs sharing
    a cache skip what the other has finished meanwhile.

    Args:
        system: the system to wrap (one with a model: baselines without one are not worth caching).
        cache: the open cache.
        chunk_size: sources translated, then stored, at a time.
    """

    def __init__(self, system: System, cache: Cache, *, chunk_size: int = 64):
        if chunk_size < 1:
            raise ConfigError(f"translate_chunk_size must be at least 1, got {chunk_size}")
        self.inner = system
        self.cache = cache
        self.chunk_size = chunk_size
        self.name = system.name
        self.uses_model = system.uses_model
        self.model_id, self.revision = system.model_id, system.revision

    def fingerprint(self) -> dict[str, Any]:
        return self.inner.fingerprint()

    def required_models(self) -> list[Any]:
        return self.inner.required_models()

    def preflight(self, corpus: Corpus) -> None:
        self.inner.preflight(corpus)

    def warn_long_sources(self, corpus: Corpus, which: set[str]) -> None:
        self.inner.warn_long_sources(corpus, which)

    def _key(self, src_lang: str, tgt_lang: str) -> str:
        return digest({"system": self.inner.fingerprint(), "src_lang": src_lang, "tgt_lang": tgt_lang})

    def pending(self, sources: Sequence[str], *, src_lang: str, tgt_lang: str) -> list[str]:
        unique = list(dict.fromkeys(sources))
        done = self.cache.get_translations(self._key(src_lang, tgt_lang), unique)
        return [s for s in unique if s not in done]

    def translate(self, sources: Sequence[str], *, src_lang: str, tgt_lang: str) -> Translation:
        key = self._key(src_lang, tgt_lang)
        pairs_key = key + "/sentences"
        unique = list(dict.fromkeys(sources))
        done = self.cache.get_translations(key, unique)
        pairs = {s: _decode(v) for s, v in self.cache.get_translations(pairs_key, unique).items()}
        missing = [s for s in unique if s not in done]
        log.info("%s: %d of %d unique sources cached, %d to translate",
                 self.name, len(unique) - len(missing), len(unique), len(missing))
        counters: dict[str, int] = {}
        translated = 0
        for start in range(0, len(missing), self.chunk_size):
            chunk = missing[start : start + self.chunk_size]
            fresh = self.cache.get_translations(key, chunk)  # another run on the same cache may have done some
            done.update(fresh)
            if fresh:
                pairs.update({s: _decode(v) for s, v in self.cache.get_translations(pairs_key, list(fresh)).items()})
            todo = [s for s in chunk if s not in fresh]
            if todo:
                size_thread_pools()  # another run may have started or ended since the last chunk
                out = self.inner.translate(todo, src_lang=src_lang, tgt_lang=tgt_lang)
                check_count(self.inner, len(todo), out)
                got = {s: p for s, p in zip(todo, out.sentence_pairs or [], strict=True) if p}
                # Pairs first: a run killed between the two writes then re-translates rather than losing them.
                if got:
                    stored = self.cache.put_translations(
                        pairs_key, [(s, json.dumps(p, ensure_ascii=False)) for s, p in got.items()])
                    pairs.update({s: _decode(v) for s, v in stored.items()})
                done.update(self.cache.put_translations(key, zip(todo, out.hyps, strict=True)))
                for name, n in out.counters.items():
                    counters[name] = counters.get(name, 0) + n
                translated += len(todo)
            log.info("%s: translated %d/%d", self.name, min(start + self.chunk_size, len(missing)), len(missing))
        if translated < len(missing):
            log.info("%s: %d sources were translated meanwhile by another run sharing the cache",
                     self.name, len(missing) - translated)
        return Translation([done[s] for s in sources], [pairs.get(s) for s in sources], counters)


def check_count(system: System, expected: int, out: Translation) -> None:
    """A system that returns another number of hypotheses than it got sources is a bug, never shifted."""
    if len(out.hyps) != expected:
        raise RuntimeError(f"{system.name} returned {len(out.hyps)} hypotheses for {expected} sources")


def _decode(value: str) -> SentencePairs:
    return [(a, b) for a, b in json.loads(value)]
