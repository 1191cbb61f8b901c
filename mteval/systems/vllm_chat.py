"""Chat LLMs through vLLM on a GPU (the optional ``vllm`` extra): HFChat's prompts, vLLM's batched decoding."""
from __future__ import annotations

import logging
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from mteval import validate
from mteval.errors import ModelUnavailableError
from mteval.systems.hf_chat import DEFAULT_PROMPT_TEMPLATE, DEFAULT_SYSTEM_PROMPT, HFChat
from mteval.hub.loading import load_or_explain, require_chat_template

log = logging.getLogger(__name__)


class VLLMChat(HFChat):
    """A chat model prompted to translate, decoded greedily by vLLM.

    Prompts, the chat template and token counting are :class:`~mteval.systems.hf_chat.HFChat`'s,
    so the two backends see identical inputs; vLLM schedules the batches itself, so batches
    here can be large. vLLM is imported on first use: without it, translating fails with a
    ModelUnavailableError that says how to install it.

    Args:
        name, model, revision, system_prompt, prompt_template, max_new_tokens, num_beams (1 only),
            repetition_penalty, language_pairs, direction, batch_size,
            max_tokens, max_input_tokens, split_sentences, trust_remote_code: as for HFChat.
        dtype: vLLM's dtype (``auto`` = the checkpoint's, ``bfloat16``, ``float16``, ``float32``).
        gpu_memory_utilization: share of GPU memory vLLM may take for weights and KV cache.
        max_model_len: context bound (None = the model's own).
        tensor_parallel_size: GPUs to shard the model over.
        seed: vLLM's seed (greedy decoding does not sample; recorded for completeness).
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
        batch_size: int = 256,
        max_tokens: int | None = None,
        max_input_tokens: int = 1024,
        split_sentences: bool = False,
        dtype: str = "auto",
        gpu_memory_utilization: float = 0.85,
        max_model_len: int | None = None,
        tensor_parallel_size: int = 1,
        seed: int = 0,
        trust_remote_code: bool = False,
        language_pairs: list[str] | None = None,
        direction: str | None = None,
    ):
        super().__init__(name=name, model=model, revision=revision, system_prompt=system_prompt,
                         prompt_template=prompt_template, max_new_tokens=max_new_tokens, num_beams=num_beams,
                         repetition_penalty=repetition_penalty, batch_size=batch_size,
                         max_tokens=max_tokens, max_input_tokens=max_input_tokens,
                         split_sentences=split_sentences, device="cuda", dtype=dtype,
                         trust_remote_code=trust_remote_code, language_pairs=language_pairs, direction=direction)
        self.gpu_memory_utilization = validate.number("gpu_memory_utilization", gpu_memory_utilization, above=0, maximum=1)
        self.max_model_len = validate.integer("max_model_len", max_model_len, minimum=1, optional=True)
        self.tensor_parallel_size = validate.integer("tensor_parallel_size", tensor_parallel_size, minimum=1)
        self.seed = validate.integer("seed", seed)

    def load(self) -> None:
        """Import vLLM (or explain how to install it), load the tokenizer, start the engine."""
        if self._model is not None:
            return
        try:
            import vllm
        except ImportError as err:
            raise ModelUnavailableError(
                f"{self.name}: vLLM is not installed; on a machine with a CUDA GPU run "
                "`pip install 'mteval[vllm]'`, or use the transformers backend (system=qwen2_5_1_5b)"
            ) from err
        from transformers import AutoTokenizer

        kw = {"revision": self.revision, "trust_remote_code": self.trust_remote_code}
        self._tok = load_or_explain(self.model_id, lambda: AutoTokenizer.from_pretrained(self.model_id, **kw))
        require_chat_template(self.model_id, self._tok)
        self._model = load_or_explain(self.model_id, lambda: vllm.LLM(
            model=self.model_id, revision=self.revision, tokenizer_revision=self.revision, dtype=self.dtype,
            gpu_memory_utilization=self.gpu_memory_utilization, max_model_len=self.max_model_len,
            tensor_parallel_size=self.tensor_parallel_size, seed=self.seed,
            trust_remote_code=self.trust_remote_code,
            # Decoding is mteval's resolved settings only: the model's generation_config.json
            # (sampling, repetition penalty) is not merged in; "vllm" = vLLM's neutral defaults
            # (engine argument --generation-config, vllm-project/vllm#11164).
            generation_config="vllm",
        ))

    def _translate_batch(self, sentences, *, src_lang, tgt_lang):
        from vllm import SamplingParams

        prompts = [self.prompt(s, src_lang=src_lang, tgt_lang=tgt_lang) for s in sentences]
        # Token ids, not text: the template already holds the special tokens, as in HFChat.
        ids = self._tok(prompts, add_special_tokens=False)["input_ids"]
        params = SamplingParams(**self.sampling_kwargs())
        outputs = self._model.generate([{"prompt_token_ids": i} for i in ids], params, use_tqdm=False)
        capped = sum(o.outputs[0].finish_reason == "length" for o in outputs)
        self.note_capped(capped)  # counted and reported like the transformers backends' cut-off outputs
        return [o.outputs[0].text.strip() for o in outputs]

    def sampling_kwargs(self) -> dict[str, Any]:
        """What ``SamplingParams`` is given: the resolved decoding, as HFChat gives ``generate``."""
        return self.decoding().vllm_kwargs()

    def run_settings(self) -> dict[str, str]:
        """vLLM runs on the GPU, at the dtype it is given (``auto``: vLLM's own choice)."""
        return {"device": "cuda", "dtype": self.dtype}

    def fingerprint(self) -> dict[str, Any]:
        try:
            vllm_version = version("vllm")
        except PackageNotFoundError:
            vllm_version = None
        return {**super().fingerprint(), "backend": "vllm", "vllm": vllm_version}
