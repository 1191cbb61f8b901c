"""Chat LLMs as translators: a prompt template from the config, the model's chat template applied."""
from __future__ import annotations

from typing import Any

from mteval import validate
from mteval.hub.device import resolve_device
from mteval.hub.identity import model_identity
from mteval.systems.base import SentenceBatchedSystem
from mteval.systems.batching import plan_batches
from mteval.systems.decoding import ResolvesDecoding
from mteval.hub.loading import TORCH_DTYPES, count_length_capped, dtype_name, load_hf, require_chat_template
from mteval.signature import Signature, model_ref

DEFAULT_SYSTEM_PROMPT = "You are a professional translator."
DEFAULT_PROMPT_TEMPLATE = ("Translate the following {src_lang} text into {tgt_lang}. "
                           "Reply with the translation only.\n\n{text}")
LANG_NAMES = {"en": "English", "zh": "Simplified Chinese", "de": "German", "fr": "French", "ja": "Japanese"}


class HFChat(ResolvesDecoding, SentenceBatchedSystem):
    """A causal chat model prompted to translate, decoded greedily unless the config asks for beams.

    The model's sampling defaults and repetition penalty (Qwen2.5-Instruct's generation_config.json
    has ``do_sample: true`` and ``repetition_penalty`` 1.05-1.1) are not applied: see
    :mod:`mteval.systems.decoding`. The prompt names both languages, so the system follows the
    dataset's direction among its ``language_pairs``.

    Args:
        name: system name. model: Hub id or local directory (``Qwen/Qwen2.5-1.5B-Instruct``).
        revision: Hub revision.
        system_prompt: the system message (None for none).
        prompt_template: the user message; ``{src_lang}``, ``{tgt_lang}`` (language names) and
            ``{text}`` are filled in.
        max_new_tokens: generation bound. batch_size / max_tokens: batching.
        num_beams: None = the model's own (1 for Qwen2.5). repetition_penalty: None = none.
        max_input_tokens: longer sentences are split further.
        split_sentences: translate sentence by sentence (off by default: LLMs handle paragraphs).
        device, dtype, trust_remote_code: as for :class:`~mteval.systems.hf_seq2seq.HFSeq2Seq`.
        language_pairs: the directions served. direction: the run's (``${dataset.direction}``).
    """

    def __init__(
        self,
        *,
        name: str,
        model: str,
        revision: str | None = None,
        system_prompt: str | None = DEFAULT_SYSTEM_PROMPT,
        prompt_template: str = DEFAULT_PROMPT_TEMPLATE,
        max_new_tokens: int = 512,
        num_beams: int | None = None,
        repetition_penalty: float | None = None,
        batch_size: int = 8,
        max_tokens: int | None = 8192,
        max_input_tokens: int = 1024,
        split_sentences: bool = False,
        device: str = "auto",
        dtype: str = "auto",
        trust_remote_code: bool = False,
        language_pairs: list[str] | None = None,
        direction: str | None = None,
    ):
        self.model_id = validate.text("model", model)  # before the base checks the direction, which names it
        super().__init__(name=name, batch_size=batch_size, max_tokens=max_tokens,
                         max_input_tokens=max_input_tokens, split_sentences=split_sentences,
                         language_pairs=language_pairs, direction=direction)
        self.revision = revision
        self.num_beams = validate.integer("num_beams", num_beams, minimum=1, optional=True)
        self.repetition_penalty = (None if repetition_penalty is None
                                   else validate.number("repetition_penalty", repetition_penalty, above=0))
        self.system_prompt = system_prompt
        self.prompt_template = prompt_template
        self.max_new_tokens = validate.integer("max_new_tokens", max_new_tokens, minimum=1)
        self.device = validate.device("device", device)
        self.dtype = validate.choice("dtype", dtype, TORCH_DTYPES)
        self.trust_remote_code = validate.boolean("trust_remote_code", trust_remote_code)
        self._tok: Any = None
        self._model: Any = None

    def load(self) -> None:
        """Load tokenizer and model once."""
        if self._model is not None:
            return
        self._tok, self._model, self._device = load_hf(
            self.model_id, auto_class="AutoModelForCausalLM", revision=self.revision,
            trust_remote_code=self.trust_remote_code, device=self.device, dtype=self.dtype,
        )
        require_chat_template(self.model_id, self._tok)
        self._tok.padding_side = "left"  # decoder-only models continue from the right edge
        if self._tok.pad_token is None:
            self._tok.pad_token = self._tok.eos_token

    def prompt(self, text: str, *, src_lang: str, tgt_lang: str) -> str:
        """The full prompt string after the chat template, ending where the answer starts."""
        self.load()
        user = self.prompt_template.format(
            src_lang=LANG_NAMES.get(src_lang, src_lang), tgt_lang=LANG_NAMES.get(tgt_lang, tgt_lang), text=text
        )
        messages = ([{"role": "system", "content": self.system_prompt}] if self.system_prompt else [])
        messages.append({"role": "user", "content": user})
        return self._tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)

    def chat(self, messages: list[str]) -> list[str]:
        """Answer each user message with this model's system prompt, chat template and resolved
        decoding, in length-sorted batches, whole (never split into sentences): for callers that are
        not translating, such as the LLM judge (``prompt_template`` should then be ``{text}``)."""
        self.load()
        if not messages:
            return []
        answers: list[str] = [""] * len(messages)
        lengths = self.count_tokens(messages)
        for batch in plan_batches(lengths, batch_size=self.batch_size, max_tokens=self.max_tokens):
            got = self._translate_fitting([messages[i] for i in batch], src_lang="", tgt_lang="")
            for i, answer in zip(batch, got, strict=True):
                answers[i] = answer
        return answers

    def count_tokens(self, texts: list[str]) -> list[int]:
        self.load()
        return [len(ids) for ids in self._tok(texts, add_special_tokens=False)["input_ids"]]

    def _translate_batch(self, sentences, *, src_lang, tgt_lang):
        import torch

        prompts = [self.prompt(s, src_lang=src_lang, tgt_lang=tgt_lang) for s in sentences]
        enc = self._tok(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(self._device)
        with torch.inference_mode():
            out = self._model.generate(**enc, **self.generate_kwargs())
        new_tokens = out[:, enc["input_ids"].shape[1]:]
        self.note_capped(count_length_capped(new_tokens, self._model.generation_config.eos_token_id,
                                             self.max_new_tokens))
        return [t.strip() for t in self._tok.batch_decode(new_tokens, skip_special_tokens=True)]

    def generate_kwargs(self) -> dict[str, Any]:
        """What ``generate`` is given besides the prompts: the resolved decoding, every setting explicit."""
        return {**self.decoding().hf_kwargs(), "pad_token_id": self._tok.pad_token_id}

    def fingerprint(self) -> dict[str, Any]:
        return {
            **super().fingerprint(),
            "model": self.model_id, "revision": self.revision,
            "model_identity": model_identity(self.model_id, self.revision), "system_prompt": self.system_prompt,
            "prompt_template": self.prompt_template, "dtype": self.dtype, "decoding": self.decoding().describe(),
            "device": self.run_settings()["device"], "signature": str(self.signature()),
        }

    def run_settings(self) -> dict[str, str]:
        """Where and how the model runs: the resolved device and dtype (keys of a signature)."""
        device = resolve_device(self.device)
        return {"device": device, "dtype": dtype_name(self.dtype, device)}

    def signature(self) -> Signature:
        """The model by content, its decoding, and the device and dtype it runs at."""
        return Signature.of(model=model_ref(self.model_id, model_identity(self.model_id, self.revision)),
                            **self.decoding().signature_fields(), **self.run_settings())
