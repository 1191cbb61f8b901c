"""The optional vLLM chat backend without vLLM: a clear error naming the install (with vLLM on a GPU:
tests/contract/test_vllm_model.py)."""
from __future__ import annotations

import sys

import pytest

from mteval.errors import ModelUnavailableError
from mteval.systems.vllm_chat import VLLMChat


def _system(model: str, **kw) -> VLLMChat:
    return VLLMChat(name="v", model=model, max_new_tokens=8, **kw)


def test_without_vllm_translating_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", None)  # import vllm now raises ImportError
    system = _system("Qwen/Qwen2.5-1.5B-Instruct")  # building imports nothing
    with pytest.raises(ModelUnavailableError, match=r"pip install 'mteval\[vllm\]'"):
        system.translate(["Hello."], src_lang="en", tgt_lang="zh").hyps
