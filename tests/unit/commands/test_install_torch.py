"""`make venv` picks the torch build on purpose: the CPU index without a GPU (the default index, with a note,
when that index cannot be reached), the default CUDA build with a GPU, and TORCH_VARIANT overrides either."""
from __future__ import annotations

import functools
import http.server
import socket
import subprocess
import threading
import time

import pytest

from mteval.commands import install_torch
from tests.helpers import ROOT


def dry_run(monkeypatch, capsys, *, gpu: bool, reachable: bool, variant: str = "auto") -> list[str]:
    monkeypatch.setattr(install_torch, "has_nvidia_gpu", lambda: gpu)
    monkeypatch.setattr(install_torch, "index_reachable", lambda *a, **k: reachable)
    assert install_torch.main(["--python", "py", "--torch", "torch==2.13.0", "--variant", variant, "--dry-run"]) == 0
    return capsys.readouterr().out.splitlines()


def test_no_gpu_installs_from_the_cpu_index(monkeypatch, capsys):
    note, cmd = dry_run(monkeypatch, capsys, gpu=False, reachable=True)
    assert note == f"torch: the CPU-only build of torch==2.13.0 from {install_torch.CPU_INDEX}"
    assert cmd == f"py -m pip install --quiet torch==2.13.0 --index-url {install_torch.CPU_INDEX}"


def test_no_gpu_and_an_unreachable_cpu_index_falls_back_with_one_note(monkeypatch, capsys):
    note, cmd = dry_run(monkeypatch, capsys, gpu=False, reachable=False)
    assert note.startswith(f"torch: note: {install_torch.CPU_INDEX} cannot be reached; torch==2.13.0 comes from "
                           "the default index instead")
    assert cmd == "py -m pip install --quiet torch==2.13.0"


def test_a_gpu_gets_the_default_cuda_build_and_the_index_is_not_asked(monkeypatch, capsys):
    monkeypatch.setattr(install_torch, "has_nvidia_gpu", lambda: True)
    monkeypatch.setattr(install_torch, "index_reachable", lambda *a, **k: pytest.fail("probed the CPU index"))
    assert install_torch.main(["--python", "py", "--torch", "torch==2.13.0", "--dry-run"]) == 0
    note, cmd = capsys.readouterr().out.splitlines()
    assert note == "torch: the default (CUDA) build of torch==2.13.0 from the package index"
    assert cmd == "py -m pip install --quiet torch==2.13.0"


@pytest.mark.parametrize(("variant", "gpu", "index"), [("cpu", True, True), ("cuda", False, False)])
def test_torch_variant_overrides_the_machine(monkeypatch, capsys, variant, gpu, index):
    monkeypatch.setenv("TORCH_VARIANT", variant)
    monkeypatch.setattr(install_torch, "has_nvidia_gpu", lambda: gpu)
    monkeypatch.setattr(install_torch, "index_reachable", lambda *a, **k: True)
    assert install_torch.main(["--python", "py", "--dry-run"]) == 0
    assert ("--index-url" in capsys.readouterr().out) is index


def test_the_probe_is_quick_on_a_refused_port_and_true_only_for_a_page_that_answers(tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start = time.monotonic()
    assert not install_torch.index_reachable(f"http://127.0.0.1:{port}/whl/cpu", timeout=2)
    assert time.monotonic() - start < 2

    (tmp_path / "whl" / "cpu" / "torch").mkdir(parents=True)
    (tmp_path / "whl" / "cpu" / "torch" / "index.html").write_text("<a>torch-2.13.0+cpu</a>", encoding="utf-8")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.HTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        assert install_torch.index_reachable(f"{base}/whl/cpu", timeout=2)
        assert not install_torch.index_reachable(f"{base}/nothing", timeout=2)  # a 404 is no index
    finally:
        server.shutdown()


def test_make_venv_calls_the_chooser_with_the_variant():
    out = subprocess.run(["make", "-n", "-B", "venv", "VENV=/nonexistent/venv", "TORCH_VARIANT=cpu"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    assert "-m mteval.commands.install_torch --torch \"torch==2.13.0\" --variant cpu" in out
    assert "pip install --quiet \"torch" not in out  # no second, unchosen torch install
