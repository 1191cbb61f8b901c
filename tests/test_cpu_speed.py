"""CPU speed-ups of the Hugging Face backends change speed, never outputs."""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from mteval.hub import cpu_speed  # noqa: E402
from mteval.hub.cpu_speed import VocabularyMajorLinear, speed_up_for_cpu  # noqa: E402


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("shape", [(7, 64), (3, 1, 64), (2, 5, 64)])
def test_vocabulary_major_linear_equals_linear(bias, shape):
    torch.manual_seed(0)
    linear = torch.nn.Linear(64, 9000, bias=bias)
    fast = VocabularyMajorLinear(linear)
    hidden = torch.randn(*shape)
    out = fast(hidden)
    assert out.shape == (*shape[:-1], 9000)
    assert out.is_contiguous()
    torch.testing.assert_close(out, linear(hidden), rtol=1e-5, atol=1e-5)
    assert fast.weight is linear.weight  # tied embeddings stay tied
    assert list(fast.state_dict()) == list(linear.state_dict())


class _Head(torch.nn.Module):
    """A minimal model with transformers' output-embedding accessors."""

    def __init__(self, width: int, dtype=torch.float32):
        super().__init__()
        self.lm_head = torch.nn.Linear(16, width, bias=False).to(dtype)

    def get_output_embeddings(self):
        return self.lm_head

    def set_output_embeddings(self, module):
        self.lm_head = module


@pytest.mark.parametrize(
    ("width", "dtype", "swapped"),
    [
        (cpu_speed.MIN_VOCABULARY, torch.float32, True),
        (cpu_speed.MIN_VOCABULARY - 1, torch.float32, False),  # a hidden layer, not a vocabulary
        (cpu_speed.MIN_VOCABULARY, torch.bfloat16, False),  # half precision keeps its own kernels
    ],
)
def test_speed_up_applies_only_to_wide_float32_heads(width, dtype, swapped):
    model = _Head(width, dtype)
    assert speed_up_for_cpu(model) is swapped
    assert isinstance(model.lm_head, VocabularyMajorLinear) is swapped
    assert speed_up_for_cpu(model) is False  # never wrapped twice


def test_reproducible_mkl_keeps_a_user_setting(monkeypatch):
    monkeypatch.setenv("MKL_CBWR", "COMPATIBLE")
    cpu_speed.reproducible_mkl()
    assert cpu_speed.os.environ["MKL_CBWR"] == "COMPATIBLE"
    monkeypatch.delenv("MKL_CBWR")
    cpu_speed.reproducible_mkl()
    assert cpu_speed.os.environ["MKL_CBWR"] == "AUTO"


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


def test_in_parallel_keeps_order_and_restores_threads():
    import threading

    before = torch.get_num_threads()
    seen = set()

    def work(x):
        seen.add((threading.get_ident(), torch.get_num_threads()))
        return x * x

    assert list(cpu_speed.in_parallel(work, list(range(20)), workers=2, threads=1)) == [x * x for x in range(20)]
    assert {threads for _, threads in seen} == {1}
    assert torch.get_num_threads() == before


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
