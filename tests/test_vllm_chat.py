"""The optional vLLM chat backend: a clear error without vLLM; HFChat's prompts and greedy output with it."""
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


@pytest.mark.slow
def test_greedy_output_matches_hf_chat(request):
    pytest.importorskip("vllm")
    import torch

    if not torch.cuda.is_available():
        pytest.skip("vLLM needs a CUDA GPU")
    from mteval.systems.hf_chat import HFChat

    sources = ["Large language models can translate.", "We present a new dataset."]
    model = str(request.getfixturevalue("tiny_models")["chat"])  # built only when the test can run
    expected = HFChat(name="h", model=model, max_new_tokens=8, device="cuda", dtype="float32").translate(
        sources, src_lang="en", tgt_lang="zh").hyps
    system = _system(model, dtype="float32", gpu_memory_utilization=0.3, max_model_len=512)
    assert system.prompt(sources[0], src_lang="en", tgt_lang="zh").endswith("<|im_start|>assistant\n")
    assert system.translate(sources, src_lang="en", tgt_lang="zh").hyps == expected
