"""One meaning of ``device``: resolved once (mteval.hub.device), followed by every system and neural
metric, named in their signatures, and a device the machine lacks refused before any model loads.
A fake ``torch.cuda.is_available`` stands in for a GPU machine."""
from __future__ import annotations

import sys

import pytest

from mteval.commands.config_check import build, resolve_devices
from mteval.hub.device import resolve_device
from mteval.validate import SettingError

NEURAL = ("dataset=wmt22_en_zh", "system=opus_mt_en_zh", "metrics=[comet,cometkiwi,xcomet,metricx,llm_judge]")


@pytest.fixture
def gpus(monkeypatch):
    """``gpus(n)``: torch sees ``n`` CUDA devices from here on (0: none)."""
    import torch

    def fake(n: int) -> None:
        monkeypatch.setattr(torch.cuda, "is_available", lambda: n > 0)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: n)
    return fake


def test_auto_is_the_gpu_when_there_is_one_and_cpu_is_always_cpu(gpus):
    gpus(1)
    assert (resolve_device("auto"), resolve_device("cpu"), resolve_device("cuda:0")) == ("cuda", "cpu", "cuda:0")
    gpus(0)
    assert (resolve_device("auto"), resolve_device("cpu")) == ("cpu", "cpu")


@pytest.mark.parametrize(("value", "n", "message"), [
    ("cuda", 0, r"device='cuda' but no CUDA GPU is visible on this machine: use device=cpu"),
    ("cuda:1", 0, r"device='cuda:1' but no CUDA GPU is visible"),
    ("cuda:2", 2, r"device='cuda:2' but only 2 GPU\(s\) are visible: use cuda:0 to cuda:1"),
    ("gpu", 1, r"device='gpu' is not a device: use auto, cpu, cuda, cuda:N or mps"),
])
def test_a_device_the_machine_lacks_is_refused_in_one_line(gpus, value, n, message):
    gpus(n)
    with pytest.raises(SettingError, match=message):
        resolve_device(value)


def test_a_backend_without_mps_refuses_it_by_name():
    with pytest.raises(SettingError, match=r"metrics\.comet\.device='mps' is not a device this backend runs on: "
                                           r"use auto, cpu, cuda\[:N\]"):
        resolve_device("mps", setting="metrics.comet.device", kinds=("cpu", "cuda"))


def _built(compose, *overrides):
    cfg = compose(*NEURAL, *overrides)
    resolve_devices(cfg)
    return cfg, build(cfg.system, "system"), {k: build(node, f"metrics.{k}") for k, node in cfg.metrics.items()}


def _where(system, metrics) -> dict[str, str]:
    """The device each component will run on, as each one decides it."""
    return {"system": resolve_device(system.device), "comet": metrics["comet"]._device(),
            "cometkiwi": metrics["cometkiwi"]._device(), "xcomet": metrics["xcomet"]._device(),
            "metricx": metrics["metricx"]._torch_device(), "judge": metrics["llm_judge"].chat_backend().device}


def test_device_cpu_puts_every_neural_metric_and_the_system_on_the_cpu_of_a_gpu_machine(gpus, compose):
    gpus(1)
    cfg, system, metrics = _built(compose, "device=cpu")
    assert set(_where(system, metrics).values()) == {"cpu"}
    assert cfg.device == "cpu"


def test_device_auto_picks_the_gpu_for_all_of_them(gpus, compose):
    gpus(1)
    cfg, system, metrics = _built(compose)  # device: auto, the default
    assert set(_where(system, metrics).values()) == {"cuda"}
    assert cfg.device == "cuda" and cfg.metrics.comet.device == "cuda"  # resolved once, in the config itself


def test_a_metric_level_device_means_the_same_thing(gpus, compose):
    gpus(1)
    _, system, metrics = _built(compose, "metrics.comet.device=cpu")
    where = _where(system, metrics)
    assert where.pop("comet") == "cpu" and set(where.values()) == {"cuda"}


def test_device_cuda_without_a_gpu_is_refused_before_anything_loads(gpus, tmp_path, monkeypatch, capsys):
    from mteval.commands.main import main

    gpus(0)
    (tmp_path / "src.en").write_text("Hello.\n", encoding="utf-8")
    (tmp_path / "ref.zh").write_text("你好。\n", encoding="utf-8")
    monkeypatch.setattr(sys, "argv", [
        "mteval", "dataset=files", f"dataset.load.src={tmp_path / 'src.en'}", f"dataset.load.refs=[{tmp_path / 'ref.zh'}]",
        "system=copy", "metrics=[bleu,comet]", "metrics.comet.model=/nonexistent/model", "device=cuda", "cache=null",
        f"hydra.run.dir={tmp_path / 'run'}", f"leaderboard={tmp_path / 'lb.csv'}"])
    monkeypatch.setenv("HYDRA_FULL_ERROR", "0")
    with pytest.raises(SystemExit) as exit_info:
        main()
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert exit_info.value.code == 2
    assert lines == ["mteval: error: device='cuda' but no CUDA GPU is visible on this machine: use device=cpu, "
                     "or device=auto (a GPU when there is one)"]


@pytest.mark.slow
def test_comet_on_the_cpu_says_so_in_its_signature(gpus, tiny_models):
    """A real (tiny) COMET with device=cpu on a machine that claims a GPU: the weights stay on the CPU,
    and the signature names the device the number was computed on."""
    from mteval.metrics.comet import Comet

    gpus(1)
    metric = Comet(model=str(tiny_models["comet"]), device="cpu")
    result = metric.score(["你好。"], [["你好！"]], ["Hello."])
    assert next(metric.load().parameters()).device.type == "cpu"
    assert "|device:cpu|" in result.signature and result.signature.startswith("model:")
