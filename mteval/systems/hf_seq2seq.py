"""Hugging Face encoder-decoder MT models: Marian/opus-mt, NLLB-200, M2M100."""
from __future__ import annotations

import logging
import threading
from functools import partial
from typing import Any

from mteval import validate
from mteval.systems.batching import available_cores, split_cores
from mteval.hub.device import resolve_device
from mteval.hub.loading import TORCH_DTYPES, count_length_capped, dtype_name, load_hf
from mteval.systems.seq2seq import Seq2SeqModel, target_language_token

log = logging.getLogger(__name__)


class HFSeq2Seq(Seq2SeqModel):
    """A Hugging Face seq2seq translation model run with ``generate``.

    Args:
        name: system name in results.
        model: Hub id or local directory (e.g. ``Helsinki-NLP/opus-mt-en-zh``).
        revision: Hub revision (branch, tag or commit); the signature names the commit it resolves to.
        lang_codes, target_token, num_beams, length_penalty, early_stopping, repetition_penalty,
            no_repeat_ngram_size, max_new_tokens: the model's contract and decoding, see
            :class:`~mteval.systems.seq2seq.Seq2SeqModel` (shared with the CTranslate2 backend).
        language_pairs: the directions the model serves. direction: the run's (``${dataset.direction}``).
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
        lang_codes: dict[str, str] | None = None,
        target_token: str | None = None,
        num_beams: int | None = None,
        length_penalty: float | None = None,
        early_stopping: bool | str | None = None,
        repetition_penalty: float | None = None,
        no_repeat_ngram_size: int | None = None,
        max_new_tokens: int = 256,
        batch_size: int = 16,
        max_tokens: int | None = 4096,
        max_input_tokens: int = 256,
        split_sentences: bool = True,
        device: str = "auto",
        dtype: str = "auto",
        parallel_batches: int = 0,
        trust_remote_code: bool = False,
        language_pairs: list[str] | None = None,
        direction: str | None = None,
    ):
        super().__init__(name=name, model=model, revision=revision, lang_codes=lang_codes,
                         target_token=target_token, num_beams=num_beams, length_penalty=length_penalty,
                         early_stopping=early_stopping, repetition_penalty=repetition_penalty,
                         no_repeat_ngram_size=no_repeat_ngram_size,
                         max_new_tokens=max_new_tokens, batch_size=batch_size, max_tokens=max_tokens,
                         max_input_tokens=max_input_tokens, split_sentences=split_sentences,
                         language_pairs=language_pairs, direction=direction)
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
        self.check_target_token(self._tok)

    @property
    def tokenizer(self) -> Any:
        self.load()
        return self._tok

    def forced_bos_token_id(self, tgt_code: str | None) -> int | None:
        """The id of the target language token, or None for single-pair models."""
        if tgt_code is None:
            return None
        tok = self.tokenizer
        return tok.convert_tokens_to_ids(target_language_token(tok, tgt_code))

    def count_tokens(self, texts: list[str]) -> list[int]:
        tok = self.tokenizer
        with self._tok_lock:
            return [len(ids) for ids in tok(self.with_target_token(texts), add_special_tokens=True)["input_ids"]]

    def encode(self, sentences: list[str], src_code: str | None) -> Any:
        """The batch as the model receives it: the source language set, the target token first."""
        with self._tok_lock:
            if src_code is not None:
                self._tok.src_lang = src_code
            return self._tok(self.with_target_token(sentences), return_tensors="pt", padding=True)

    def generate_kwargs(self, tgt_code: str | None) -> dict[str, Any]:
        """What ``generate`` is given besides the inputs: the resolved decoding and the forced target code."""
        gen = self.decoding().hf_kwargs()
        bos = self.forced_bos_token_id(tgt_code)
        if bos is not None:
            gen["forced_bos_token_id"] = bos
        return gen

    def _translate_batch(self, sentences, *, src_lang, tgt_lang):
        import torch

        self.load()
        src_code, tgt_code = self.codes(src_lang, tgt_lang)
        # Batches may run in parallel threads, and a fast tokenizer refuses to be used from two
        # threads at once ("Already borrowed", huggingface/tokenizers#537): one at a time.
        enc = self.encode(sentences, src_code).to(self._device)
        with self._tok_lock:
            gen = self.generate_kwargs(tgt_code)
        with torch.inference_mode():
            out = self._model.generate(**enc, **gen)
        self.note_capped(count_length_capped(out[:, 1:], self._model.generation_config.eos_token_id,
                                             self.max_new_tokens))
        with self._tok_lock:
            return [t.strip() for t in self._tok.batch_decode(out, skip_special_tokens=True)]

    def _translate_batches(self, batches, *, src_lang, tgt_lang):
        workers, threads = split_cores(available_cores(), self.parallel_batches)
        if len(batches) > 1 and workers > 1:
            self.load()  # the device is known once loaded
        if len(batches) <= 1 or workers <= 1 or self._device != "cpu":
            yield from super()._translate_batches(batches, src_lang=src_lang, tgt_lang=tgt_lang)
            return
        from mteval.hub.cpu_speed import in_parallel

        yield from in_parallel(partial(self._translate_batch, src_lang=src_lang, tgt_lang=tgt_lang), batches,
                               workers=workers, threads=threads)

    def fingerprint(self) -> dict[str, Any]:
        return {
            **super().fingerprint(), "dtype": self.dtype, "device": resolve_device(self.device),
        }

    def run_settings(self) -> dict[str, str]:
        device = resolve_device(self.device)
        return {"dtype": dtype_name(self.dtype, device), "device": device}
