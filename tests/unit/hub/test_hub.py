"""An unreachable Hugging Face Hub is detected once, in seconds, and named in one line with the fix."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import MTEVAL, ROOT


# Port 9 on the loopback refuses connections at once: a Hub that cannot be reached, without a network.
DEAD_HUB = "http://127.0.0.1:9"


def online_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    return {**env, "HF_ENDPOINT": DEAD_HUB, "HF_HOME": str(tmp_path / "hf")}


def one_error_line(stderr: str, prefix: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith(prefix)]
    assert len(lines) == 1, stderr[-2000:]
    return lines[0]


@pytest.mark.slow
def test_run_with_an_unreachable_hub_is_one_line(wmt22, tmp_path):
    proc = subprocess.run([MTEVAL, "dataset=wmt22_en_zh", "dataset.load.limit=3", "system.model=Helsinki-NLP/not-cached",
                           "metrics=[bleu]", f"hydra.run.dir={tmp_path / 'r'}", "cache=null",
                           f"leaderboard={tmp_path / 'lb.csv'}"],
                          capture_output=True, text=True, cwd=ROOT, env=online_env(tmp_path), timeout=300)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    line = one_error_line(proc.stderr, "mteval: error:")
    assert "Helsinki-NLP/not-cached" in line and "cannot be reached" in line and "HF_ENDPOINT" in line
    assert "Retry" not in proc.stdout + proc.stderr


@pytest.mark.slow
def test_prefetch_with_an_unreachable_hub_is_one_line(tmp_path):
    prefetch = str(Path(sys.executable).parent / "mteval-prefetch")
    proc = subprocess.run([prefetch, "system=opus_mt_en_zh", "metrics=[bleu]"], capture_output=True, text=True,
                          cwd=ROOT, env=online_env(tmp_path), timeout=300)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    line = one_error_line(proc.stderr, "mteval-prefetch: error:")
    assert "Helsinki-NLP/opus-mt-en-zh" in line and "cannot be reached" in line and "make models" not in line
    assert "Retry" not in proc.stdout + proc.stderr


@pytest.fixture
def silent_hub():
    """A Hub endpoint that accepts connections and never answers (issue 23 defect 1: runs hung on it)."""
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    server.close()


@pytest.mark.slow
@pytest.mark.parametrize("hub", ["refused", "silent"])
def test_the_default_run_names_every_missing_model_in_one_line_before_any_metric_loads(tmp_path, silent_hub, hub):
    """The default run (opus-mt-en-zh, MetricX-QE with mT5-XL's tokenizer) against a Hub that refuses or
    never answers: one probe, one line naming all three missing models and `make models`, no retries,
    no hang (the metric's own preflight, which hung, comes after the check)."""
    import time

    env = {**online_env(tmp_path), "HF_ENDPOINT": DEAD_HUB if hub == "refused" else silent_hub}
    start = time.monotonic()
    proc = subprocess.run([MTEVAL, f"hydra.run.dir={tmp_path / 'r'}", "cache=null", f"leaderboard={tmp_path / 'lb.csv'}"],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    took = time.monotonic() - start
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    line = one_error_line(proc.stderr, "mteval: error:")
    for model in ("Helsinki-NLP/opus-mt-en-zh", "google/metricx-24-hybrid-large-v2p6", "google/mt5-xl"):
        assert model in line
    assert "cannot be reached" in line and "make models" in line
    assert "Retry" not in proc.stdout + proc.stderr
    print(f"{hub} hub: exit 2 after {took:.1f} s")  # the closing note's number (probe deadline 5 s + start-up)
