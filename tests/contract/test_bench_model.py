"""The translation benchmark's process path on the tiny Marian model: timed in its own process, failures reported."""
from __future__ import annotations

import pytest

from mteval.bench.translate import ProcessPath


@pytest.mark.slow
def test_process_path_times_in_its_own_process_and_reports_failures(tiny_models):
    naive = ProcessPath({"kind": "naive", "kwargs": {"model": str(tiny_models["marian"]), "new_tokens": 4}}, 1)
    try:
        wall, cpu = naive(["A short sentence.", "Another one."])
        assert wall > 0 and cpu > 0
    finally:
        naive.close()
    broken = ProcessPath({"kind": "hf", "kwargs": {"name": "hf", "model": "/nonexistent/model", "device": "cpu"}}, 1)
    try:
        with pytest.raises(RuntimeError, match="benchmark path 'hf' failed: .*cannot load model '/nonexistent/model'"):
            broken(["A sentence."])
    finally:
        broken.close()
