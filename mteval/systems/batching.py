"""Batching and core sharing for neural backends: length-sorted batches, cores split between batches, OOM handling."""
from __future__ import annotations

import sys
from collections.abc import Sequence

from mteval.cores import core_share


def available_cores() -> int:
    """CPU cores this process may use: its affinity mask, shared with the other mteval runs on this
    machine (:mod:`mteval.cores`), so concurrent runs and sweep jobs do not oversubscribe the cores."""
    return core_share()


def split_cores(cores: int, inter: int = 0, intra: int = 0) -> tuple[int, int]:
    """(parallel batches, threads per batch) on ``cores`` CPU cores; a 0 is chosen automatically:
    2 parallel batches where there are two or more cores, and the cores shared among them.

    On the 2-core bench machine, 2 batches of 1 thread gave 7-12% more tokens/s than 1 batch of
    2 threads, for CTranslate2 and for PyTorch alike: the small products of a decoding step
    gain little from a second thread."""
    inter = inter or (2 if cores >= 2 else 1)
    return inter, intra or max(1, cores // inter)


def plan_batches(lengths: Sequence[int], *, batch_size: int, max_tokens: int | None) -> list[list[int]]:
    """Group item indices into length-sorted batches bounded by count and by padded tokens.

    Sorting by length keeps padding small; ``max_tokens`` bounds ``len(batch) * longest``
    (the padded size the model really computes). Returns lists of original indices.
    """
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    batches: list[list[int]] = []
    current: list[int] = []
    longest = 0
    for i in order:
        new_longest = max(longest, lengths[i])
        too_many = len(current) >= batch_size
        too_big = max_tokens is not None and current and new_longest * (len(current) + 1) > max_tokens
        if current and (too_many or too_big):
            batches.append(current)
            current, new_longest = [], lengths[i]
        current.append(i)
        longest = new_longest
    if current:
        batches.append(current)
    return batches


def is_oom(err: BaseException) -> bool:
    """True for CUDA (or other accelerator) out-of-memory errors, checked without importing torch."""
    torch = sys.modules.get("torch")
    oom = getattr(getattr(torch, "cuda", None), "OutOfMemoryError", None)
    if oom is not None and isinstance(err, oom):
        return True
    return isinstance(err, RuntimeError) and "out of memory" in str(err).lower()


def free_gpu_memory() -> None:
    """Release cached blocks so the retry starts from a clean allocator."""
    import gc

    gc.collect()
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()
