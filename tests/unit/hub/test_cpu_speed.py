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
