"""CTranslate2 backend for Marian/opus-mt, NLLB-200 and M2M100: converted once from the Hugging Face model, cached."""
from __future__ import annotations

import json
import logging
import shutil
import tempfile
from importlib.metadata import version
from pathlib import Path
from typing import Any

from mteval import validate
from mteval.errors import ConfigError
from mteval.files import digest
from mteval.provenance import ROOT
from mteval.hub.identity import model_identity
from mteval.hub.device import resolve_device
from mteval.hub.loading import load_or_explain, model_error, weights_error
from mteval.systems.batching import available_cores, is_oom, split_cores
from mteval.systems.ct2_decoding import decoding_options
from mteval.systems.seq2seq import Seq2SeqModel, target_language_token

log = logging.getLogger(__name__)

#: Where converted models live unless ``converted_dir`` says otherwise (ignored by git).
CACHE_DIR = ROOT / "results" / "cache" / "ct2"
#: CTranslate2's compute types (its docs, "Quantization"), checked before the library loads.
CT2_COMPUTE_TYPES = ("auto", "default", "int8", "int8_float32", "int8_float16", "int8_bfloat16", "int16",
                     "float16", "bfloat16", "float32")
#: Written last into a finished conversion; a directory without it is a crashed one.
MARKER = "mteval-ct2.json"


class CT2Seq2Seq(Seq2SeqModel):
    """A Hugging Face seq2seq model (Marian, NLLB, M2M100) run by CTranslate2.

    The first use converts the model with ``ctranslate2.converters.TransformersConverter``
    (weights kept as stored, float32 for these models) into ``converted_dir``; later runs load
    the conversion. ``compute_type`` quantises at load time, so one conversion serves int8 on
    CPU and float16 on GPU. Tokenisation, the target language token and the decoding settings
    are :class:`~mteval.systems.seq2seq.Seq2SeqModel`'s, as in the Hugging Face backend. Greedy
    decoding and beam search stopped at ``num_beams`` finished hypotheses (early_stopping true)
    give the same outputs in both; CTranslate2 cannot stop beam search as ``generate`` does with
    early_stopping false or never (opus-mt's and NLLB's own), and its signature says so
    (``stop:n-finished(asked:hf-heuristic)``, docs/systems.md).

    Args:
        name: system name in results.
        model: Hub id or local directory of the Hugging Face model.
        revision: Hub revision.
        lang_codes, target_token, num_beams, length_penalty, early_stopping, repetition_penalty,
            no_repeat_ngram_size, max_new_tokens: as for the Hugging Face backend
            (:class:`~mteval.systems.seq2seq.Seq2SeqModel`); max_new_tokens counted as Hugging Face counts it.
        language_pairs: the directions the model serves. direction: the run's (``${dataset.direction}``).
        batch_size: sentences per batch. max_tokens: bound on padded source tokens per batch.
        max_input_tokens: longer sentences are split further (never truncated).
        split_sentences: translate sentence by sentence and re-join.
        device: ``auto`` (cuda when CTranslate2 sees a GPU), ``cpu``, ``cuda`` or ``cuda:N``.
        compute_type: ``auto`` = int8 on CPU, float16 on GPU; or any CTranslate2 compute type
            (``float32``, ``int8_float32``, ``bfloat16``, ...).
        inter_threads: batches translated in parallel; 0 = 2 on a CPU with two or more cores
            (on 2 cores, 2 batches of 1 thread gave 12% more tokens/s than 1 batch of 2), 1 on a GPU.
        intra_threads: threads per batch; 0 = the cores this process may run on, shared among
            the parallel batches (CTranslate2's own default is 4, too many on 2 cores).
        converted_dir: where the converted model is stored; None = ``results/cache/ct2/<name>-<hash>``.
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
        batch_size: int = 32,
        max_tokens: int | None = 8192,
        max_input_tokens: int = 512,
        split_sentences: bool = True,
        device: str = "auto",
        compute_type: str = "auto",
        inter_threads: int = 0,
        intra_threads: int = 0,
        converted_dir: str | None = None,
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
        self.compute_type = validate.choice("compute_type", compute_type, CT2_COMPUTE_TYPES)
        self.inter_threads = validate.integer("inter_threads", inter_threads, minimum=0)
        self.intra_threads = validate.integer("intra_threads", intra_threads, minimum=0)
        self.converted_dir = converted_dir
        self.trust_remote_code = validate.boolean("trust_remote_code", trust_remote_code)
        self._tok: Any = None
        self._translator: Any = None
        self._decoding: dict[str, Any] = {}

    # -- where and how it runs -------------------------------------------------------------
    def device_and_index(self) -> tuple[str, int]:
        """(``cpu`` | ``cuda``, device index) from the ``device`` setting."""
        import ctranslate2

        kind, _, index = resolve_device(self.device, setting="system.device", kinds=("cpu", "cuda"),
                                        gpus=ctranslate2.get_cuda_device_count).partition(":")  # its own GPU count
        return kind, int(index or 0)

    def resolved_compute_type(self) -> str:
        """``auto`` -> int8 on CPU, float16 on GPU; an explicit type is checked against the device."""
        import ctranslate2

        device, _ = self.device_and_index()
        if self.compute_type == "auto":
            return "int8" if device == "cpu" else "float16"
        supported = ctranslate2.get_supported_compute_types(device)
        if self.compute_type not in supported:
            raise ConfigError(f"{self.name}: compute_type {self.compute_type!r} is not supported on {device}; "
                              f"use one of {sorted(supported)}")
        return self.compute_type

    def converted_path(self) -> Path:
        """The directory of the converted model: ``converted_dir`` or a content-addressed cache entry."""
        if self.converted_dir is not None:
            return Path(self.converted_dir)
        # By content (Hub commit or digest), so weights swapped at the same path are converted anew.
        key = {"model": model_identity(self.model_id, self.revision),
               "ctranslate2": version("ctranslate2"), "transformers": version("transformers")}
        return CACHE_DIR / f"{Path(self.model_id).name}-{digest(key, 16)}"

    def convert(self) -> Path:
        """Convert the Hugging Face model once; a finished conversion is reused as it is."""
        out = self.converted_path()
        if (out / MARKER).is_file() or (self.converted_dir is not None and (out / "model.bin").is_file()):
            return out
        from ctranslate2.converters import TransformersConverter

        log.info("%s: converting %s to CTranslate2 (once) into %s", self.name, self.model_id, out)
        out.parent.mkdir(parents=True, exist_ok=True)
        # Convert beside the target and rename, so a crash or a parallel run never leaves half a model.
        scratch = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
        try:
            converter = TransformersConverter(self.model_id, revision=self.revision,
                                              trust_remote_code=self.trust_remote_code)
            try:
                converter.convert(str(scratch), force=True)
            except ValueError as err:  # an architecture the converter does not know
                raise ConfigError(f"{self.name}: CTranslate2 cannot convert {self.model_id}: {err}") from err
            except OSError as err:  # missing, mistyped or gated model
                raise model_error(self.model_id, err) from err
            except Exception as err:  # damaged or refused weights: one line; anything else re-raises
                if weights_error(self.model_id, err) is None:
                    raise
                raise model_error(self.model_id, err) from err
            provenance = {"model": self.model_id, "revision": self.revision,
                          "ctranslate2": version("ctranslate2"), "transformers": version("transformers")}
            (scratch / MARKER).write_text(json.dumps(provenance, indent=2) + "\n", encoding="utf-8")
            scratch.chmod(0o755)
            if not (out / MARKER).is_file():
                if out.exists():
                    shutil.rmtree(out)
                scratch.rename(out)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return out

    # -- loading -----------------------------------------------------------------------------
    def load(self) -> None:
        """Load the tokenizer and the decoding settings, convert if needed, start the translator."""
        if self._translator is not None:
            return
        import ctranslate2
        from transformers import AutoTokenizer

        kw = {"revision": self.revision, "trust_remote_code": self.trust_remote_code}
        self._tok = load_or_explain(self.model_id, lambda: AutoTokenizer.from_pretrained(self.model_id, **kw))
        self.check_target_token(self._tok)
        path = self.convert()
        self._decoding = decoding_options(self.model_defaults(), self._tok, path, self.decoding())
        if "(asked:" in self.beam_stop():
            log.warning("%s: CTranslate2 stops beam search once %d hypotheses have ended, not as transformers' "
                        "early_stopping=%s does (%s): outputs may differ from the Hugging Face backend's; set "
                        "system.early_stopping=true for both to decode alike", self.name, self.decoding().num_beams,
                        self.decoding().early_stopping, self.beam_stop())
        device, index = self.device_and_index()
        inter, intra = self.threads(device)
        self._translator = ctranslate2.Translator(
            str(path), device=device, device_index=index, compute_type=self.resolved_compute_type(),
            inter_threads=inter, intra_threads=intra,
        )

    def threads(self, device: str) -> tuple[int, int]:
        """(parallel batches, threads per batch) with the ``0`` = automatic settings resolved."""
        if device != "cpu":
            return self.inter_threads or 1, self.intra_threads
        return split_cores(available_cores(), self.inter_threads, self.intra_threads)

    @property
    def tokenizer(self) -> Any:
        self.load()
        return self._tok

    def count_tokens(self, texts: list[str]) -> list[int]:
        return [len(ids) for ids in self.tokenizer(self.with_target_token(texts), add_special_tokens=True)["input_ids"]]

    def engine_inputs(self, sentences: list[str], src_lang: str, tgt_lang: str) -> dict[str, Any]:
        """What ``translate_batch`` is given: source tokens (the target token first where the model
        needs one), the target language prefix (NLLB, M2M100) and the resolved decoding options."""
        self.load()
        tok = self._tok
        src_code, tgt_code = self.codes(src_lang, tgt_lang)
        if src_code is not None:
            tok.src_lang = src_code
        ids = tok(self.with_target_token(sentences), add_special_tokens=True)["input_ids"]
        prefix = None if tgt_code is None else [[target_language_token(tok, tgt_code)] for _ in sentences]
        return {"source": [tok.convert_ids_to_tokens(i) for i in ids], "target_prefix": prefix, **self._decoding}

    def _submit(self, sentences: list[str], src_lang: str, tgt_lang: str, *, asynchronous: bool = False) -> list[Any]:
        """Hand one batch to CTranslate2: results, or futures of them when ``asynchronous``."""
        return self._translator.translate_batch(**self.engine_inputs(sentences, src_lang, tgt_lang),
                                                asynchronous=asynchronous)

    def _outputs(self, results: list[Any], tgt_lang: str) -> list[str]:
        """Detokenised hypotheses, with outputs stopped by the length bound counted and warned about."""
        tok = self._tok
        skip = 0 if self.codes(tgt_lang, tgt_lang)[1] is None else 1  # the target language prefix
        limit = self._decoding["max_decoding_length"]
        outputs, capped = [], 0
        for result in results:
            hypothesis = result.hypotheses[0]  # the prefix included, EOS not
            capped += len(hypothesis) >= limit  # stopped by the bound, not by EOS
            outputs.append(tok.decode(tok.convert_tokens_to_ids(hypothesis[skip:]), skip_special_tokens=True).strip())
        self.note_capped(capped)  # counted and reported as the Hugging Face backend does
        return outputs

    def _translate_batch(self, sentences, *, src_lang, tgt_lang):
        return self._outputs(self._submit(sentences, src_lang, tgt_lang), tgt_lang)

    def _translate_batches(self, batches, *, src_lang, tgt_lang):
        """With ``inter_threads`` > 1, every batch is queued at once so the translator's workers
        each take one; outputs still come back batch by batch, in order. A batch that runs out of
        GPU memory this way is translated again on its own, in halves if need be."""
        if len(batches) > 1 and self._translator is None:
            self.load()
        if len(batches) <= 1 or self._translator.num_translators <= 1:
            yield from super()._translate_batches(batches, src_lang=src_lang, tgt_lang=tgt_lang)
            return
        pending = [self._submit(texts, src_lang, tgt_lang, asynchronous=True) for texts in batches]
        for texts, futures in zip(batches, pending, strict=True):
            try:
                yield self._outputs([future.result() for future in futures], tgt_lang)
            except Exception as err:  # noqa: BLE001 - only out-of-memory is retried; the rest re-raises
                if not is_oom(err):
                    raise
                yield self._translate_fitting(texts, src_lang=src_lang, tgt_lang=tgt_lang)

    def beam_stop(self) -> str:
        """CTranslate2's own beam termination, with the resolved one named where they differ."""
        return self.decoding().ct2_beam_stop()

    def fingerprint(self) -> dict[str, Any]:
        return {**super().fingerprint(), "device": self.device_and_index()[0],
                "compute_type": self.resolved_compute_type(), "ctranslate2": version("ctranslate2")}

    def run_settings(self) -> dict[str, str]:
        kind, index = self.device_and_index()
        return {"dtype": self.resolved_compute_type(), "device": kind if kind == "cpu" else f"cuda:{index}",
                "ctranslate2": version("ctranslate2")}

