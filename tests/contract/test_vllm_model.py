"""vLLM on a CUDA GPU, on the tiny chat model: its greedy output and its judge's answers equal the transformers
backend's (skipped without a GPU; the model is built only when the test can run)."""
from __future__ import annotations

import pytest
from hydra.utils import instantiate

from mteval.systems.vllm_chat import VLLMChat


@pytest.mark.slow
@pytest.mark.gpu
def test_greedy_output_matches_hf_chat(request):
    pytest.importorskip("vllm")
    from mteval.systems.hf_chat import HFChat

    sources = ["Large language models can translate.", "We present a new dataset."]
    model = str(request.getfixturevalue("tiny_models")["chat"])  # built only when the test can run
    expected = HFChat(name="h", model=model, max_new_tokens=8, device="cuda", dtype="float32").translate(
        sources, src_lang="en", tgt_lang="zh").hyps
    system = VLLMChat(name="v", model=model, max_new_tokens=8, dtype="float32", gpu_memory_utilization=0.3,
                      max_model_len=512)
    assert system.prompt(sources[0], src_lang="en", tgt_lang="zh").endswith("<|im_start|>assistant\n")
    assert system.translate(sources, src_lang="en", tgt_lang="zh").hyps == expected


@pytest.mark.slow
@pytest.mark.gpu
def test_vllm_judge_answers_as_the_transformers_judge(request, compose):
    pytest.importorskip("vllm")
    model = request.getfixturevalue("tiny_models")["chat"]
    results = []
    for backend in ("hf", "vllm"):
        cfg = compose("metrics=[llm_judge]", "dataset=wmt22_en_zh", f"metrics.llm_judge.model={model}",
                      f"metrics.llm_judge.backend={backend}", "metrics.llm_judge.max_new_tokens=16",
                      "metrics.llm_judge.dtype=float32", "metrics.llm_judge.device=cuda")
        judge = instantiate(cfg.metrics.llm_judge, _convert_="all")
        results.append(judge.score(["会议推迟。", "天气很好。"], [["会议推迟到下周。"]] * 2,
                                   ["The meeting was moved to next week."] * 2, tgt_lang="zh"))
    assert results[0].segment_extra == results[1].segment_extra
    assert results[0].extra["judge"] == results[1].extra["judge"]
