"""Tiny local models offline: they run on with an unreachable Hub, load from safetensors with remote code off,
and an uncached system, COMET model or COMET encoder stops an offline run in one line."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.helpers import MTEVAL, ROOT


def run_offline(tmp_path: Path, *overrides: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf"),
           "HF_HUB_CACHE": str(tmp_path / "hf" / "hub")}
    return subprocess.run(
        [MTEVAL, "dataset=wmt22_en_zh", "dataset.load.limit=5", *overrides, "cache=null",
         f"hydra.run.dir={tmp_path / 'run'}", f"leaderboard={tmp_path / 'lb.csv'}"],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)


def assert_one_line(proc: subprocess.CompletedProcess, *needles: str) -> None:
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "Traceback" not in proc.stdout + proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("mteval: error: cannot load "), proc.stderr
    for needle in needles:
        assert needle in lines[0]


@pytest.mark.slow
def test_offline_run_with_an_uncached_system_model_exits_2(wmt22, tmp_path):
    proc = run_offline(tmp_path, "system=opus_mt_en_zh", "metrics=[bleu]")
    assert_one_line(proc, "'Helsinki-NLP/opus-mt-en-zh'", "make models")
    assert not (tmp_path / "run" / "scores.json").exists()


@pytest.mark.slow
def test_offline_run_with_an_uncached_comet_model_exits_2(wmt22, tmp_path):
    proc = run_offline(tmp_path, "system=copy", "metrics=[bleu,comet]", "metrics.comet.model=Unbabel/wmt22-comet-da")
    assert_one_line(proc, "'Unbabel/wmt22-comet-da'", "make models")


@pytest.mark.slow
def test_offline_run_with_an_uncached_comet_encoder_exits_2(wmt22, tmp_path, tiny_models):
    checkpoint = tmp_path / "comet"
    shutil.copytree(tiny_models["comet"], checkpoint)
    hparams = yaml.safe_load((checkpoint / "hparams.yaml").read_text())
    hparams["pretrained_model"] = "xlm-roberta-large"  # as the real wmt22-comet-da says
    (checkpoint / "hparams.yaml").write_text(yaml.safe_dump(hparams))
    proc = run_offline(tmp_path, "system=copy", "metrics=[bleu,comet]", f"metrics.comet.model={checkpoint}")
    assert_one_line(proc, "'xlm-roberta-large' (the encoder COMET checkpoint", "make models")


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Recommended. pip install sacremoses")
def test_seq2seq_loading_prefers_safetensors_and_keeps_remote_code_off(tiny_models, tmp_path, monkeypatch):
    import transformers

    from mteval.systems.hf_seq2seq import HFSeq2Seq

    model_dir = tmp_path / "marian"
    shutil.copytree(tiny_models["marian"], model_dir)
    assert (model_dir / "model.safetensors").is_file()
    # A pickle beside the safetensors file that would fail (and could run code) if it were loaded.
    (model_dir / "pytorch_model.bin").write_bytes(b"not a pickle")
    seen: list[dict] = []
    original = transformers.AutoModelForSeq2SeqLM.from_pretrained

    def spy(model, **kw):
        seen.append(kw)
        return original(model, **kw)

    monkeypatch.setattr(transformers.AutoModelForSeq2SeqLM, "from_pretrained", spy)
    system = HFSeq2Seq(name="t", model=str(model_dir), num_beams=1, max_new_tokens=4, device="cpu")
    assert len(system.translate(["Hello world."], src_lang="en", tgt_lang="zh").hyps) == 1
    (kw,) = seen
    assert kw.get("use_safetensors") in (None, True) and kw["trust_remote_code"] is False


def test_cached_local_models_run_on_with_an_unreachable_hub(monkeypatch, tiny_models):
    from huggingface_hub import constants

    from mteval.hub import probe as hub
    from mteval.hub.availability import ModelRef, check_models
    from mteval.pipeline import required_models

    from mteval.metrics.sacre import BLEU
    from mteval.systems.copy import CopySystem

    class LocalSystem(CopySystem):
        model_id = str(tiny_models["marian"])

    class HubMetric(BLEU):
        def required_models(self):
            return [ModelRef("google/metricx-24-hybrid-large-v2p6", None, "metricx", "metrics.m")]

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(hub, "_ANSWER", (False, "ConnectionRefusedError: refused"))
    check_models(required_models(LocalSystem(), []))  # a local model needs no Hub: the run goes on
    from mteval.errors import ModelUnavailableError

    with pytest.raises(ModelUnavailableError, match="google/metricx-24.*cannot be reached.*HF_HUB_OFFLINE=1"):
        check_models(required_models(LocalSystem(), [HubMetric()]))
    assert constants.HF_HUB_OFFLINE is True  # the process now reads the cache only: no retries
