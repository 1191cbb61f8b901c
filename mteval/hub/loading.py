"""Loading Hugging Face models: dtype choice, and readable errors when a model is missing."""
from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any, TypeVar

from mteval.errors import ConfigError, ModelUnavailableError
from mteval.hub.device import resolve_device

T = TypeVar("T")
log = logging.getLogger(__name__)


#: dtype settings of the torch backends (vLLM's names too) -> torch attribute; ``auto`` is resolved per device.
TORCH_DTYPES = {"auto": None, "float32": "float32", "fp32": "float32", "float": "float32", "float16": "float16",
                "fp16": "float16", "half": "float16", "bfloat16": "bfloat16", "bf16": "bfloat16"}


def resolve_dtype(dtype: str, device: str) -> Any:
    """``auto`` -> bfloat16 on a GPU that supports it (float16 otherwise), float32 on CPU."""
    import torch

    if dtype == "auto":
        if device.startswith("cuda"):
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.float32
    try:
        return getattr(torch, TORCH_DTYPES[dtype])
    except KeyError:
        raise ValueError(f"unknown dtype {dtype!r}: use one of {', '.join(TORCH_DTYPES)}") from None


def dtype_name(dtype: str, device: str) -> str:
    """The torch dtype a setting runs at on a device, by name (``float32``, ``bfloat16``): for signatures."""
    return str(resolve_dtype(dtype, device)).removeprefix("torch.")


def model_error(model_id: str, err: BaseException) -> ModelUnavailableError:
    """Turn a Hub or file error into one line that names the model and the fix."""
    text = f"{type(err).__name__}: {err}"
    offline = os.environ.get("HF_HUB_OFFLINE") == "1" or os.environ.get("TRANSFORMERS_OFFLINE") == "1"
    if "gated" in text.lower() or "401" in text or "403" in text or "GatedRepo" in text:
        fix = (f"the model is gated: accept its licence on huggingface.co/{model_id} and set HF_TOKEN "
               "(or run `huggingface-cli login`), then `make models`")
    elif "RepositoryNotFound" in text or "404" in text or "is not a local folder and is not a valid model" in text:
        fix = "check the model id (system.model=...) or give a local directory"
    elif offline or "offline" in text.lower() or "LocalEntryNotFound" in text or "cannot find the requested files" in text:
        fix = ("it is not in the local Hugging Face cache: run `make models` (mteval-prefetch) where the Hub is "
               "reachable, or point the config at a local directory; HF_HUB_OFFLINE=1 then runs offline")
    else:
        fix = "download it with `make models` (mteval-prefetch), or point the config at a local directory"
    return ModelUnavailableError(f"cannot load model '{model_id}': {fix}")


def load_or_explain(model_id: str, loader: Callable[[], T]) -> T:
    """Call ``loader()``; a missing, mistyped or gated model becomes a ModelUnavailableError."""
    try:
        return loader()
    except (OSError, ValueError, EnvironmentError) as err:
        raise model_error(model_id, err) from err
    except Exception as err:  # huggingface_hub errors subclass different bases across versions
        if type(err).__module__.startswith(("huggingface_hub", "requests", "urllib3", "httpx")):
            raise model_error(model_id, err) from err
        raise


def count_length_capped(generated: Any, eos_token_id: int | list[int] | None, max_new_tokens: int) -> int:
    """How many outputs filled ``max_new_tokens`` without an end-of-sentence token (cut off by the bound)."""
    if eos_token_id is None or generated.shape[1] < max_new_tokens:
        return 0
    eos = [eos_token_id] if isinstance(eos_token_id, int) else list(eos_token_id)
    import torch

    # Some models force EOS at the last allowed step (Marian's forced_eos_token_id), so an output
    # is capped when no EOS appears before the last position.
    has_eos = torch.isin(generated[:, : max_new_tokens - 1], torch.tensor(eos, device=generated.device)).any(dim=1)
    return int((~has_eos).sum())


def load_hf(
    model_id: str, *, auto_class: str, revision: str | None, trust_remote_code: bool, device: str, dtype: str
) -> tuple[Any, Any, str]:
    """Load a tokenizer and a model (``AutoModelForSeq2SeqLM`` or ``AutoModelForCausalLM``).

    Safetensors are used when the repository has them (transformers' default preference);
    remote code runs only when the system config turns ``trust_remote_code`` on. On CPU the
    speed-ups of :mod:`mteval.hub.cpu_speed` are applied (same outputs, faster products).

    Returns:
        (tokenizer, model in eval mode on its device, the resolved device string).
    """
    import transformers

    auto = getattr(transformers, auto_class)
    kw = {"revision": revision, "trust_remote_code": trust_remote_code}
    tok = load_or_explain(model_id, lambda: transformers.AutoTokenizer.from_pretrained(model_id, **kw))
    resolved = resolve_device(device)
    torch_dtype = resolve_dtype(dtype, resolved)
    if resolved == "cpu":
        from mteval.hub.cpu_speed import reproducible_mkl

        reproducible_mkl()
    model = load_or_explain(model_id, lambda: auto.from_pretrained(model_id, dtype=torch_dtype, **kw))
    model.to(resolved).eval()
    if resolved == "cpu":
        from mteval.hub.cpu_speed import speed_up_for_cpu

        speed_up_for_cpu(model)
    return tok, model, resolved


def require_chat_template(model_id: str, tokenizer: Any) -> None:
    """A chat system needs a chat template; say so in one line instead of failing in Jinja."""
    if not getattr(tokenizer, "chat_template", None):
        raise ConfigError(f"model '{model_id}' has no chat template: use an instruct/chat model for system=hf_chat")
