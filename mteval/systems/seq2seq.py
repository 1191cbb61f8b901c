"""What the Hugging Face and CTranslate2 seq2seq backends share: the model's contract (language codes,
target token, decoding settings) and its identity, resolved the same way for both."""
from __future__ import annotations

from typing import Any

from mteval import validate
from mteval.hub.identity import model_identity
from mteval.signature import Signature, model_ref
from mteval.systems.base import SentenceBatchedSystem
from mteval.systems.decoding import EARLY_STOPPING, ResolvesDecoding
from mteval.systems.languages import model_code
from mteval.errors import ConfigError


class Seq2SeqModel(ResolvesDecoding, SentenceBatchedSystem):
    """A Hugging Face encoder-decoder MT model (Marian/opus-mt, NLLB-200, M2M100), whichever engine runs it.

    Args:
        model, revision: Hub id or local directory; Hub revision.
        lang_codes: ISO code -> the model's code (``{en: eng_Latn, zh: zho_Hans}`` for NLLB,
            ``{en: en, zh: zh}`` for M2M100): the source code goes to the tokenizer, the target
            code is forced as the first generated token. None for single-pair models (opus-mt).
        target_token: a token put before every source sentence to choose the target variety
            (``>>cmn_Hans<<`` for opus-mt-en-zh, whose card requires one); None when not needed.
        num_beams, length_penalty: None = the model's own (its generation config).
        early_stopping: beam termination, transformers' ``early_stopping`` (true, false or never); None =
            the model's own. CTranslate2 can apply only some values: see docs/systems.md.
        repetition_penalty, no_repeat_ngram_size: None = none, whatever the model's file says.
        max_new_tokens: generation bound per sentence.
        language_pairs, direction: see :class:`~mteval.systems.base.SentenceBatchedSystem`.
    """

    def __init__(self, *, name: str, model: str, revision: str | None, lang_codes: dict[str, str] | None,
                 target_token: str | None, num_beams: int | None, length_penalty: float | None,
                 early_stopping: bool | str | None, repetition_penalty: float | None, no_repeat_ngram_size: int | None, max_new_tokens: int,
                 batch_size: int, max_tokens: int | None, max_input_tokens: int, split_sentences: bool,
                 language_pairs: list[str] | None, direction: str | None):
        self.model_id = validate.text("model", model)  # before the base checks the direction, which names it
        super().__init__(name=name, batch_size=batch_size, max_tokens=max_tokens,
                         max_input_tokens=max_input_tokens, split_sentences=split_sentences,
                         language_pairs=language_pairs, direction=direction)
        self.revision = validate.text("revision", revision, optional=True)
        self.lang_codes = None if lang_codes is None else dict(lang_codes)
        self.target_token = validate.text("target_token", target_token, optional=True)
        self.num_beams = validate.integer("num_beams", num_beams, minimum=1, optional=True)
        self.length_penalty = None if length_penalty is None else validate.number("length_penalty", length_penalty)
        self.early_stopping = validate.choice("early_stopping", early_stopping, EARLY_STOPPING, optional=True)
        self.repetition_penalty = (None if repetition_penalty is None
                                   else validate.number("repetition_penalty", repetition_penalty, above=0))
        self.no_repeat_ngram_size = validate.integer("no_repeat_ngram_size", no_repeat_ngram_size, minimum=0,
                                                     optional=True)
        self.max_new_tokens = validate.integer("max_new_tokens", max_new_tokens, minimum=1)

    # -- the contract ------------------------------------------------------------------------
    def codes(self, src_lang: str, tgt_lang: str) -> tuple[str | None, str | None]:
        """The model's (source, target) language codes for a direction; (None, None) for opus-mt."""
        return model_code(self.name, self.lang_codes, src_lang), model_code(self.name, self.lang_codes, tgt_lang)

    def with_target_token(self, sentences: list[str]) -> list[str]:
        """Every sentence as the model must receive it: behind the target token when there is one."""
        if self.target_token is None:
            return list(sentences)
        return [f"{self.target_token} {s}" for s in sentences]

    def check_target_token(self, tok: Any) -> None:
        """A target token the vocabulary lacks would be encoded as <unk>: refuse it in one line."""

        if self.target_token is None:
            return
        tid = tok.convert_tokens_to_ids(self.target_token)
        if tid is None or tid == tok.unk_token_id:
            raise ConfigError(f"system {self.name}: model {self.model_id} has no token {self.target_token!r} "
                              "in its vocabulary; set system.target_token to one its model card lists")

    def beam_stop(self) -> str:
        """The beam termination rule this engine applies (``generate``'s: the resolved one)."""
        return self.decoding().beam_stop()

    def fingerprint(self) -> dict[str, Any]:
        identity = model_identity(self.model_id, self.revision)
        stop = self.beam_stop()
        return {
            **super().fingerprint(),
            "model": self.model_id, "revision": self.revision, "model_identity": identity,
            "lang_codes": self.lang_codes, "target_token": self.target_token,
            "decoding": self.decoding().describe(stop), "signature": str(self.signature()),
        }

    def signature(self) -> Signature:
        """The model by content, its target token and decoding, and where and how the engine runs it."""
        return Signature.of(model=model_ref(self.model_id, model_identity(self.model_id, self.revision)),
                            target_token=self.target_token, **self.decoding().signature_fields(self.beam_stop()),
                            **self.run_settings())

    def run_settings(self) -> dict[str, str]:
        """Each engine's resolved device and dtype (and its version), as keys of the signature."""
        raise NotImplementedError


def target_language_token(tok: Any, code: str) -> str:
    """The token forced first on the target side: ``zho_Hans`` for NLLB, ``__zh__`` for M2M100."""

    tid = tok.get_lang_id(code) if hasattr(tok, "get_lang_id") else tok.convert_tokens_to_ids(code)
    if tid is None or tid == tok.unk_token_id:
        raise ConfigError(f"the tokenizer has no language code {code!r}: check system.lang_codes")
    return tok.convert_ids_to_tokens(tid)
