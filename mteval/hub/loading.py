"""Loading Hugging Face models: dtype choice, and readable errors when a model is missing."""
from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from pathlib import Path
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


#: Weight files a model directory or a COMET checkpoint keeps, in the order transformers prefers them.
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "checkpoints/model.ckpt")
_DAMAGED = ("PytorchStreamReader", "central directory", "corrupt", "unexpected EOF", "incomplete metadata",
            "invalid load key", "truncated", "HeaderTooLarge", "MetadataIncompleteBuffer")


def weights_file(model_id: str) -> str:
    """The weights file of a model (a local directory or file, or a Hub id's cached snapshot), for messages."""
    local = Path(model_id).expanduser()
    if local.is_file():
        return str(local)
    for name in WEIGHT_FILES:
        if (local / name).is_file():
            return str(local / name)
    try:
        from huggingface_hub import try_to_load_from_cache

        for name in WEIGHT_FILES[:2]:
            found = try_to_load_from_cache(model_id, name)
            if isinstance(found, str):
                return found
    except Exception:  # noqa: BLE001 - only a better message is at stake
        pass
    return f"the weights of {model_id}"


def weights_error(model_id: str, err: BaseException, file: str | Path | None = None) -> ModelUnavailableError | None:
    """A weights file that is truncated or corrupt, or a pickle torch's weights-only loader refused, as one
    line naming the file and the fix; None for any other error (issue 23: these were "internal error")."""
    text = f"{type(err).__name__}: {err}"
    where = str(file) if file is not None else weights_file(model_id)
    refused = re.search(r"(?:unsupported GLOBAL|Unsupported global: GLOBAL) (\S+)", text)
    if "Weights only load failed" in text or refused:
        what = f" ({refused.group(1)})" if refused else ""
        return ModelUnavailableError(
            f"refused to load model '{model_id}': {where} holds Python objects besides weights{what}, which could "
            "run code when unpickled; it was not loaded. Replace it with the published checkpoint (delete it, "
            "then `make models`), and load it only if you trust where it came from")
    if type(err).__name__ in ("SafetensorError", "UnpicklingError", "BadZipFile", "EOFError") \
            or (isinstance(err, RuntimeError) and any(k in text for k in _DAMAGED)):
        detail = " ".join(str(err).split())[:120]
        return ModelUnavailableError(
            f"cannot load model '{model_id}': {where} is damaged (truncated or corrupt: {detail}); delete it and "
            "download it again with `make models` (mteval-prefetch), or copy it from a cache that has it whole")
    return None


def model_error(model_id: str, err: BaseException) -> ModelUnavailableError:
    """Turn a Hub or file error into one line that names the model and the fix."""
    damaged = weights_error(model_id, err)
    if damaged is not None:
        return damaged
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
        if type(err).__module__.startswith(("huggingface_hub", "requests", "urllib3", "httpx")) \
                or weights_error(model_id, err) is not None:
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
