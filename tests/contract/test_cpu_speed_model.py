"""CPU speed-ups on the tiny models change speed, never outputs: each backend equals plain generate, parallel
batches keep order."""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from mteval.hub import cpu_speed  # noqa: E402
from mteval.hub.cpu_speed import VocabularyMajorLinear  # noqa: E402


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "auto_class"), [("marian", "AutoModelForSeq2SeqLM"),
                                                   ("chat", "AutoModelForCausalLM")])
def test_backend_outputs_equal_plain_generate(tiny_models, monkeypatch, kind, auto_class):
    """The HF backend with the swapped head decodes exactly what an untouched model decodes."""
    import transformers

    from mteval.hub.loading import load_hf

    monkeypatch.setattr(cpu_speed, "MIN_VOCABULARY", 1)  # the tiny vocabularies are small
    tok, fast, device = load_hf(str(tiny_models[kind]), auto_class=auto_class, revision=None,
                                trust_remote_code=False, device="cpu", dtype="float32")
    assert device == "cpu" and isinstance(fast.get_output_embeddings(), VocabularyMajorLinear)
    plain = getattr(transformers, auto_class).from_pretrained(tiny_models[kind]).eval()
    assert type(plain.get_output_embeddings()) is torch.nn.Linear
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    tok.padding_side = "left"  # harmless for the encoder-decoder, required for the decoder-only model
    texts = ["The results are robust across seeds.", "We propose a method.", "Translation quality matters."]
    enc = tok(texts, return_tensors="pt", padding=True)
    with torch.inference_mode():
        a = fast.generate(**enc, num_beams=1, do_sample=False, max_new_tokens=12, pad_token_id=tok.pad_token_id)
        b = plain.generate(**enc, num_beams=1, do_sample=False, max_new_tokens=12, pad_token_id=tok.pad_token_id)
        c = fast.generate(**enc, num_beams=3, do_sample=False, max_new_tokens=12, pad_token_id=tok.pad_token_id)
        d = plain.generate(**enc, num_beams=3, do_sample=False, max_new_tokens=12, pad_token_id=tok.pad_token_id)
    assert torch.equal(a, b)
    assert torch.equal(c, d)


@pytest.mark.slow
def test_parallel_batches_give_the_same_outputs_in_order(tiny_models):
    from mteval.systems.hf_seq2seq import HFSeq2Seq

    kw = dict(name="m", model=str(tiny_models["marian"]), num_beams=2, max_new_tokens=10, batch_size=2,
              max_tokens=None, max_input_tokens=512, split_sentences=True, device="cpu", dtype="float32")
    sources = [f"Sentence number {i} is about translation. It has two parts." for i in range(7)]
    one, two = HFSeq2Seq(**kw, parallel_batches=1), HFSeq2Seq(**kw, parallel_batches=2)
    progress = []
    two.on_progress = lambda done, total: progress.append((done, total))
    assert two.translate(sources, src_lang="en", tgt_lang="zh").hyps == one.translate(sources, src_lang="en", tgt_lang="zh").hyps
    assert two.counters["outputs_length_capped"] == one.counters["outputs_length_capped"] > 0  # counted once per output, from both threads
    assert progress == [(done, 8) for done in (2, 4, 6, 8)]  # 8 distinct sentences, batches of 2, in order
