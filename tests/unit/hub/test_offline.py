"""Faults and the offline check without a model run: GPU out-of-memory halves the batch, prefetch covers every
config, the offline check names what is missing (offline runs: tests/contract/test_offline_models.py)."""
from __future__ import annotations

import inspect
import shutil
from pathlib import Path

import pytest
import yaml

from mteval.errors import ModelUnavailableError, MtevalError
from mteval.hub.availability import check_models
from mteval.pipeline import required_models
from mteval.commands.prefetch import (ENCODER_FILES, NOT_LOADED, TOKENIZER_FILES, ModelRef, all_configs, compose,
                             models_in_config, prefetch)
from mteval.systems.base import SentenceBatchedSystem
from tests.helpers import ROOT

COMMIT = "0123456789abcdef0123456789abcdef01234567"
ENCODERS = {"Unbabel/wmt22-comet-da": "xlm-roberta-large", "Unbabel/wmt22-cometkiwi-da": "microsoft/infoxlm-large",
            "Unbabel/eamt22-cometinho-da": "microsoft/Multilingual-MiniLM-L12-H384"}
# encoder_model in each checkpoint's hparams.yaml: Cometinho's MiniLM loads xlm-roberta-base's tokenizer by name.
ENCODER_MODELS = {"Unbabel/eamt22-cometinho-da": "MiniLM"}


class OOMBackend(SentenceBatchedSystem):
    """Runs out of GPU memory on a batch larger than ``fits``; records every batch it is given."""

    def __init__(self, *, fits: int, error: type[BaseException] | None = None, **kw):
        super().__init__(name="oom", max_tokens=None, max_input_tokens=512, split_sentences=False, **kw)
        self.fits = fits
        self.error = error
        self.batches: list[int] = []

    def _translate_batch(self, sentences, *, src_lang, tgt_lang):
        import torch

        self.batches.append(len(sentences))
        if len(sentences) > self.fits:
            raise (self.error or torch.cuda.OutOfMemoryError)("CUDA out of memory. Tried to allocate 1.50 GiB")
        return [s.upper() for s in sentences]

    def count_tokens(self, texts):
        return [len(t.split()) for t in texts]


def test_cuda_oom_halves_the_batch_and_later_batches_stay_small(caplog):
    sources = [f"sentence {i}" for i in range(20)]
    system = OOMBackend(fits=3, batch_size=8)
    assert system.translate(sources, src_lang="en", tgt_lang="en").hyps == [s.upper() for s in sources]
    assert system.batches[:3] == [8, 4, 2]  # 8 fails, 4 fails, 2 fits
    assert max(system.batches[3:]) == 2 and sum(b for b in system.batches if b <= 3) == 20
    assert "out of GPU memory on a batch of 8 sentences; retrying in batches of 4" in caplog.text


def test_oom_on_one_sentence_is_a_clear_error_and_other_errors_pass_through():
    with pytest.raises(MtevalError, match="out of GPU memory on a single sentence"):
        OOMBackend(fits=0, batch_size=4).translate(["a b", "c d"], src_lang="en", tgt_lang="en").hyps
    with pytest.raises(ValueError, match="CUDA out of memory"):  # not an OOM type: not retried
        OOMBackend(fits=1, batch_size=4, error=ValueError).translate(["a", "b"], src_lang="en", tgt_lang="en").hyps


def fake_hub(cache: Path, calls: list[dict], safetensors: bool = True):
    """snapshot_download and list_repo_files doubles that lay files out as the Hub cache does."""

    def snapshot_download(*, repo_id, revision=None, allow_patterns=None, ignore_patterns=None):
        calls.append({"repo_id": repo_id, "revision": revision, "allow": allow_patterns, "ignore": ignore_patterns})
        repo = cache / f"models--{repo_id.replace('/', '--')}"
        snap = repo / "snapshots" / COMMIT
        snap.mkdir(parents=True, exist_ok=True)
        (repo / "refs").mkdir(exist_ok=True)
        (repo / "refs" / (revision or "main")).write_text(COMMIT)
        if repo_id in ENCODERS:
            (snap / "checkpoints").mkdir(exist_ok=True)
            (snap / "checkpoints" / "model.ckpt").write_bytes(b"ckpt")
            (snap / "hparams.yaml").write_text(yaml.safe_dump({
                "pretrained_model": ENCODERS[repo_id], "encoder_model": ENCODER_MODELS.get(repo_id, "XLM-RoBERTa")}))
        else:
            (snap / "config.json").write_text("{}")
            (snap / "tokenizer.json").write_text("{}")
        return str(snap)

    def list_files(repo_id, revision=None):
        return ["config.json", "pytorch_model.bin", "tf_model.h5"] + (["model.safetensors"] if safetensors else [])

    return snapshot_download, list_files


@pytest.fixture(scope="module")
def configs() -> list:
    """One composed config per system option, with every metric option."""
    return all_configs()


def test_prefetch_fetches_every_model_of_every_config_and_the_comet_encoders(tmp_path, configs):
    refs = list(dict.fromkeys(r for cfg in configs for r in models_in_config(cfg)))
    named = {r.repo_id for r in refs}
    assert {"Helsinki-NLP/opus-mt-en-zh", "Helsinki-NLP/opus-mt-zh-en", "facebook/nllb-200-distilled-600M",
            "facebook/m2m100_418M", "Qwen/Qwen2.5-1.5B-Instruct", *ENCODERS} <= named
    # Every id comes from a `model:` in conf/ (no local paths, no file systems).
    yaml_models = {v for d in ("system", "metrics") for p in (ROOT / "conf" / d).glob("*.yaml")
                   for k, v in yaml.safe_load(p.read_text()).items() if k in ("model", "tokenizer")}
    assert named <= yaml_models
    calls: list[dict] = []
    snapshot_download, list_files = fake_hub(tmp_path, calls)
    fetched, failed = prefetch(refs, snapshot_download=snapshot_download, list_files=list_files, log=lambda _: None)
    assert failed == []
    by_id = {c["repo_id"]: c for c in calls}
    assert len(by_id) == len(calls)  # each model once
    assert set(by_id) == named | set(ENCODERS.values()) | {"xlm-roberta-base"}
    assert by_id["xlm-roberta-base"]["allow"] == ENCODER_FILES  # the tokenizer Cometinho loads by a fixed name
    for encoder in ENCODERS.values():
        assert by_id[encoder]["allow"] == ENCODER_FILES  # tokenizer and config, not 2 GB of unused weights
    system = by_id["Helsinki-NLP/opus-mt-en-zh"]
    assert system["ignore"] == NOT_LOADED + ["*.bin"]  # safetensors preferred when the repo has them
    assert by_id["Unbabel/wmt22-comet-da"]["allow"] is None and by_id["Unbabel/wmt22-comet-da"]["ignore"] is None
    assert by_id["google/mt5-xl"]["allow"] == TOKENIZER_FILES  # MetricX's tokenizer, not mT5-XL's weights
    assert by_id["google/metricx-24-hybrid-large-v2p6"]["ignore"] == NOT_LOADED


def test_prefetch_keeps_pytorch_bin_when_there_are_no_safetensors(tmp_path):
    calls: list[dict] = []
    snapshot_download, list_files = fake_hub(tmp_path, calls, safetensors=False)
    prefetch([ModelRef("org/model", "v1", "system", "test")], snapshot_download=snapshot_download,
             list_files=list_files, log=lambda _: None)
    assert calls == [{"repo_id": "org/model", "revision": "v1", "allow": None, "ignore": NOT_LOADED}]


def test_prefetch_reports_each_failure_and_goes_on(tmp_path):
    calls: list[dict] = []
    good, list_files = fake_hub(tmp_path, calls)

    def flaky(**kw):
        if kw["repo_id"] == "org/gated":
            raise OSError("401 Client Error: GatedRepoError")
        return good(**kw)

    fetched, failed = prefetch([ModelRef("org/gated", None, "system", "a"), ModelRef("org/ok", None, "system", "b")],
                               snapshot_download=flaky, list_files=list_files, log=lambda _: None)
    assert [r.repo_id for r in fetched] == ["org/ok"]
    ((ref, reason),) = failed
    assert ref.repo_id == "org/gated" and "gated" in reason and "HF_TOKEN" in reason


def test_after_prefetch_an_offline_run_finds_every_model(tmp_path, monkeypatch):
    """Prefetch the default config into a fresh cache; the offline pre-flight of the same config passes."""
    import huggingface_hub.constants as hub_constants
    from hydra.utils import instantiate

    monkeypatch.setattr(hub_constants, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", True)
    cfg = compose(["system=nllb_600m", "metrics=[bleu,comet,cometkiwi]"])
    system = instantiate(cfg.system, _convert_="all")
    metrics = [instantiate(m, _convert_="all") for m in cfg.metrics.values()]
    with pytest.raises(ModelUnavailableError, match="facebook/nllb-200-distilled-600M"):
        check_models(required_models(system, metrics))  # nothing cached yet
    snapshot_download, list_files = fake_hub(tmp_path, [])
    prefetch(models_in_config(cfg), snapshot_download=snapshot_download, list_files=list_files, log=lambda _: None)
    check_models(required_models(system, metrics))  # the system, both checkpoints and both encoders are found
    for metric in metrics:
        metric.preflight()
    shutil.rmtree(tmp_path / "models--microsoft--infoxlm-large")
    with pytest.raises(ModelUnavailableError, match="'microsoft/infoxlm-large' \\(the encoder COMET checkpoint "
                                                    "'Unbabel/wmt22-cometkiwi-da'"):
        check_models(required_models(system, metrics))


def test_offline_check_knows_the_tokenizer_cometinho_loads_by_name(tmp_path, monkeypatch):
    """comet_small's checkpoint names MiniLM, whose COMET encoder loads xlm-roberta-base's tokenizer:
    prefetch fetches it, and the offline check names it when it is missing, before any translating."""
    import huggingface_hub.constants as hub_constants
    from hydra.utils import instantiate

    monkeypatch.setattr(hub_constants, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", True)
    cfg = compose(["system=copy", "metrics=[comet_small]"])
    metrics = [instantiate(m, _convert_="all") for m in cfg.metrics.values()]
    system = instantiate(cfg.system, _convert_="all")
    calls: list[dict] = []
    snapshot_download, list_files = fake_hub(tmp_path, calls)
    prefetch(models_in_config(cfg), snapshot_download=snapshot_download, list_files=list_files, log=lambda _: None)
    assert {c["repo_id"] for c in calls} == {"Unbabel/eamt22-cometinho-da", "microsoft/Multilingual-MiniLM-L12-H384",
                                             "xlm-roberta-base"}
    check_models(required_models(system, metrics))
    shutil.rmtree(tmp_path / "models--xlm-roberta-base")
    with pytest.raises(ModelUnavailableError, match="'xlm-roberta-base' \\(the tokenizer COMET checkpoint "
                                                    "'Unbabel/eamt22-cometinho-da'"):
        check_models(required_models(system, metrics))


def test_trust_remote_code_is_off_unless_a_config_turns_it_on(configs):
    from mteval.systems.hf_chat import HFChat
    from mteval.systems.hf_seq2seq import HFSeq2Seq

    for cls in (HFSeq2Seq, HFChat):
        assert inspect.signature(cls).parameters["trust_remote_code"].default is False
    assert len(configs) >= 5
    for cfg in configs:
        assert cfg.system.get("trust_remote_code", False) is False, cfg.system.name
