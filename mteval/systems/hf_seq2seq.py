"""Hugging Face encoder-decoder MT models: Marian/opus-mt, NLLB-200, M2M100."""
from __future__ import annotations

import logging
import threading
from functools import partial
from typing import Any

from mteval import validate
from mteval.systems.base import SentenceBatchedSystem, available_cores, split_cores
from mteval.systems.hf_loading import TORCH_DTYPES, count_length_capped, load_hf

log = logging.getLogger(__name__)


class HFSeq2Seq(SentenceBatchedSystem):
    """A Hugging Face seq2seq translation model run with ``generate``.

    Args:
        name: system name in results.
        model: Hub id or local directory (e.g. ``Helsinki-NLP/opus-mt-en-zh``).
        revision: Hub revision (branch, tag or commit) for reproducibility.
        src_lang_code: the tokenizer's source language code (``eng_Latn`` for NLLB, ``en`` for
            M2M100); None for single-pair models such as opus-mt.
        tgt_lang_code: the target code forced as the first generated token (``zho_Hans``, ``zh``).
        num_beams: beam size; stated explicitly so backends cannot differ silently.
        max_new_tokens: generation bound per sentence.
        batch_size: sentences per batch. max_tokens: bound on padded source tokens per batch.
        max_input_tokens: longer sentences are split further (never truncated).
        split_sentences: translate sentence by sentence and re-join.
        device: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``. dtype: ``auto``, ``float32``, ``bfloat16``, ``float16``.
        parallel_batches: on CPU, batches decoded side by side, the cores shared among them;
            0 = 2 on two or more cores (as CTranslate2's ``inter_threads``). On a GPU, one at a time.
        trust_remote_code: off unless a config turns it on.
    """

    def __init__(
        self,
        *,
        name: str,
        model: str,
        revision: str | None = None,
        src_lang_code: str | None = None,
        tgt_lang_code: str | None = None,
        num_beams: int = 4,
        max_new_tokens: int = 256,
        batch_size: int = 16,
        max_tokens: int | None = 4096,
        max_input_tokens: int = 256,
        split_sentences: bool = True,
        device: str = "auto",
        dtype: str = "auto",
        parallel_batches: int = 0,
        trust_remote_code: bool = False,
    ):
        super().__init__(name=name, batch_size=batch_size, max_tokens=max_tokens,
                         max_input_tokens=max_input_tokens, split_sentences=split_sentences)
        self.model_id = model
        self.revision = revision
        self.src_lang_code = src_lang_code
        self.tgt_lang_code = tgt_lang_code
        self.num_beams = validate.integer("num_beams", num_beams, minimum=1, optional=True)
        self.max_new_tokens = validate.integer("max_new_tokens", max_new_tokens, minimum=1)
        self.device = validate.device("device", device)
        self.dtype = validate.choice("dtype", dtype, TORCH_DTYPES)
        self.parallel_batches = validate.integer("parallel_batches", parallel_batches, minimum=0)
        self.trust_remote_code = validate.boolean("trust_remote_code", trust_remote_code)
        self._tok: Any = None
        self._tok_lock = threading.Lock()
        self._model: Any = None

    def load(self) -> None:
        """Load tokenizer and model once (lazily, on first use)."""
        if self._model is not None:
            return
        self._tok, self._model, self._device = load_hf(
            self.model_id, auto_class="AutoModelForSeq2SeqLM", revision=self.revision,
            trust_remote_code=self.trust_remote_code, device=self.device, dtype=self.dtype,
        )
        if self.src_lang_code is not None:
            self._tok.src_lang = self.src_lang_code

    @property
    def tokenizer(self) -> Any:
        self.load()
        return self._tok

    def forced_bos_token_id(self) -> int | None:
        """The id of the target language token, or None for single-pair models."""
        if self.tgt_lang_code is None:
            return None
        tok = self.tokenizer
        if hasattr(tok, "get_lang_id"):  # M2M100: "zh" -> "__zh__"
            return tok.get_lang_id(self.tgt_lang_code)
        tid = tok.convert_tokens_to_ids(self.tgt_lang_code)
        if tid is None or tid == tok.unk_token_id:
            raise ValueError(f"{self.model_id}: tokenizer has no language code {self.tgt_lang_code!r}")
        return tid

    def count_tokens(self, texts: list[str]) -> list[int]:
        return [len(ids) for ids in self.tokenizer(texts, add_special_tokens=True)["input_ids"]]

    def _translate_batch(self, sentences, *, src_lang, tgt_lang):
        import torch

        self.load()
        # Batches may run in parallel threads, and a fast tokenizer refuses to be used from two
        # threads at once ("Already borrowed", huggingface/tokenizers#537): one at a time.
        with self._tok_lock:
            enc = self._tok(sentences, return_tensors="pt", padding=True).to(self._device)
            bos = self.forced_bos_token_id()
        gen: dict[str, Any] = {"num_beams": self.num_beams, "max_new_tokens": self.max_new_tokens,
                               "do_sample": False}
        if bos is not None:
            gen["forced_bos_token_id"] = bos
        with torch.inference_mode():
            out = self._model.generate(**enc, **gen)
        count_length_capped(self, out[:, 1:], self._model.generation_config.eos_token_id)
        with self._tok_lock:
            return [t.strip() for t in self._tok.batch_decode(out, skip_special_tokens=True)]

    def _translate_batches(self, batches, *, src_lang, tgt_lang):
        workers, threads = split_cores(available_cores(), self.parallel_batches)
        if len(batches) > 1 and workers > 1:
            self.load()  # the device is known once loaded
        if len(batches) <= 1 or workers <= 1 or self._device != "cpu":
            yield from super()._translate_batches(batches, src_lang=src_lang, tgt_lang=tgt_lang)
            return
        from mteval.systems.cpu_speed import in_parallel

        yield from in_parallel(partial(self._translate_batch, src_lang=src_lang, tgt_lang=tgt_lang), batches,
                               workers=workers, threads=threads)

    def fingerprint(self) -> dict[str, Any]:
        return {
            **super().fingerprint(),
            "model": self.model_id, "revision": self.revision, "src_lang_code": self.src_lang_code,
            "tgt_lang_code": self.tgt_lang_code, "num_beams": self.num_beams,
            "max_new_tokens": self.max_new_tokens, "dtype": self.dtype,
        }
