"""CPU-only speed-ups for the Hugging Face backends: same outputs, faster matrix products.

Imported lazily by :func:`mteval.hub.loading.load_hf` (it imports torch).

Measured with ``make bench`` on a 2-core AMD EPYC (Zen 1, AVX2) for an opus-mt-en-zh-sized
Marian model, greedy, batches of 32 (see docs/speed.md):

* The output projection onto a 65,001-word vocabulary is about 40% of decoding time. Computed
  as ``weight @ hidden.T`` (vocabulary-major) instead of ``hidden @ weight.T``, MKL runs it at
  about twice the GFLOP/s for a batch of 32 rows: tokens/s rose by about 18%, outputs identical.
* ``MKL_CBWR=AUTO`` (MKL's conditional numerical reproducibility) makes MKL's results the same
  from run to run on one machine, and here it also picks faster kernels for the small
  matrices of a decoding step: about 12% more tokens/s.
* Two batches decoded side by side with one thread each (:func:`in_parallel`), rather than one
  batch with two threads: 7-10% more tokens/s, outputs identical.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import torch

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")

#: Output layers at least this wide (a vocabulary, not a hidden layer) are computed vocabulary-major.
MIN_VOCABULARY = 8192


def reproducible_mkl() -> None:
    """Ask MKL for run-to-run reproducible results (``MKL_CBWR=AUTO``) unless the user set it.

    MKL reads the variable on its first call, so this must run before the first matrix product
    of the process; later it changes nothing. An exported ``MKL_CBWR`` always wins.
    """
    os.environ.setdefault("MKL_CBWR", "AUTO")


class VocabularyMajorLinear(torch.nn.Module):
    """A drop-in replacement for a wide output ``Linear`` that computes ``(W @ x.T).T``.

    The parameters are the wrapped layer's own (tied embeddings stay tied); only the order of
    the operands handed to the matrix product changes, so the result equals the original up to
    floating-point rounding.
    """

    def __init__(self, linear: torch.nn.Linear):
        super().__init__()
        self.in_features = linear.in_features
        self.out_features = linear.out_features
        self.weight = linear.weight
        self.bias = linear.bias

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        flat = hidden.reshape(-1, self.in_features)
        if self.bias is None:
            out = torch.mm(self.weight, flat.t())
        else:
            out = torch.addmm(self.bias.unsqueeze(1), self.weight, flat.t())
        return out.t().contiguous().view(*hidden.shape[:-1], self.out_features)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


def speed_up_for_cpu(model: Any) -> bool:
    """Swap a float32 model's wide output projection for :class:`VocabularyMajorLinear`.

    Returns True when it was swapped; models on a GPU, in half precision or with an output
    layer that is not a plain ``Linear`` are left as they are.
    """
    head = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    if type(head) is not torch.nn.Linear or head.weight.device.type != "cpu":
        return False
    if head.weight.dtype != torch.float32 or head.out_features < MIN_VOCABULARY:
        return False
    model.set_output_embeddings(VocabularyMajorLinear(head))
    log.debug("output projection (%d words) computed vocabulary-major on CPU", head.out_features)
    return True


def in_parallel(fn: Callable[[T], R], items: Sequence[T], *, workers: int, threads: int) -> Iterator[R]:
    """``fn`` over ``items``, ``workers`` at a time with ``threads`` PyTorch threads each; results in order.

    PyTorch releases the GIL inside its kernels, so two batches decode side by side. The
    process's thread setting is restored afterwards.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with ThreadPoolExecutor(workers, initializer=torch.set_num_threads, initargs=(threads,)) as pool:
            yield from pool.map(fn, items)
    finally:
        torch.set_num_threads(before)
