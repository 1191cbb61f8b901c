"""Concurrent runs split the cores: each registers, counts the live runs, and sizes its thread pools."""
from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from mteval import cores

HOLDER = "from mteval import cores; cores.register(); print('ready', flush=True); import time; time.sleep(600)"


def start_run(env: dict) -> subprocess.Popen:
    """A process that registers as a live run and waits."""
    proc = subprocess.Popen([sys.executable, "-c", HOLDER], env=env, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    return proc


def test_live_runs_count_registered_processes_and_forget_killed_ones(tmp_path, monkeypatch):
    monkeypatch.setenv("MTEVAL_RUNS_DIR", str(tmp_path))
    monkeypatch.setattr(cores, "affinity_cores", lambda: 16)
    env = {**os.environ, "MTEVAL_RUNS_DIR": str(tmp_path)}
    assert cores.live_runs() == 1 and cores.core_share() == 16  # nobody registered: this process alone
    first, second = start_run(env), start_run(env)
    try:
        assert cores.live_runs() == 2
        assert cores.core_share() == 8
        os.kill(second.pid, signal.SIGKILL)  # killed: the kernel releases its lock, no cleanup ran
        second.wait()
        assert cores.live_runs() == 1 and cores.core_share() == 16
        assert sorted(p.name for p in tmp_path.iterdir()) == [str(first.pid)]  # the stale file is gone
    finally:
        for proc in (first, second):
            proc.kill()
            proc.wait()


def test_share_is_at_least_one_core(tmp_path, monkeypatch):
    monkeypatch.setenv("MTEVAL_RUNS_DIR", str(tmp_path))
    monkeypatch.setattr(cores, "affinity_cores", lambda: 2)
    monkeypatch.setattr(cores, "live_runs", lambda: 5)
    assert cores.core_share() == 1


def test_size_thread_pools_sets_torch_and_the_pool_variables(monkeypatch):
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(cores, "core_share", lambda: 1)
    monkeypatch.setattr(cores, "_user_set", set())
    for name in (*cores.THREAD_VARIABLES, "MTEVAL_SIZED_THREADS"):  # restored after the test
        monkeypatch.setenv(name, "x")
        monkeypatch.delenv(name)
    before = torch.get_num_threads()
    try:
        assert cores.size_thread_pools() == 1
        assert torch.get_num_threads() == 1
        assert all(os.environ[name] == "1" for name in cores.THREAD_VARIABLES)
    finally:
        torch.set_num_threads(before)


def test_an_exported_thread_count_wins(monkeypatch):
    monkeypatch.setenv("MTEVAL_SIZED_THREADS", "")
    monkeypatch.setattr(cores, "core_share", lambda: 1)
    monkeypatch.setattr(cores, "_user_set", {"OMP_NUM_THREADS"})
    monkeypatch.setenv("OMP_NUM_THREADS", "7")
    cores.size_thread_pools()
    assert os.environ["OMP_NUM_THREADS"] == "7"


def test_counts_set_by_a_parent_run_are_not_the_users(monkeypatch):
    """A child of an mteval process inherits its thread variables; it still sizes its own pools."""
    env = {k: v for k, v in os.environ.items() if k not in cores.THREAD_VARIABLES}
    env.update(OMP_NUM_THREADS="2", MKL_NUM_THREADS="5", MTEVAL_SIZED_THREADS="OMP_NUM_THREADS")
    out = subprocess.run([sys.executable, "-c", "from mteval import cores; print(sorted(cores._user_set))"],
                         env=env, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['MKL_NUM_THREADS']"


def test_a_run_logs_its_share(tmp_path, monkeypatch, capsys):
    """Through the CLI: a run with another live run on a 2-core mask takes 1 thread."""
    from mteval.commands.main import main

    monkeypatch.setenv("MTEVAL_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setattr(cores, "affinity_cores", lambda: 2)
    monkeypatch.setattr(cores, "_registration", None)
    for name in (*cores.THREAD_VARIABLES, "MTEVAL_SIZED_THREADS"):  # restored after the test
        monkeypatch.setenv(name, os.environ.get(name, ""))
        monkeypatch.delenv(name)
    other = start_run({**os.environ, "MTEVAL_RUNS_DIR": str(tmp_path / "runs")})
    try:
        (tmp_path / "src.en").write_text("Hello.\n", encoding="utf-8")
        (tmp_path / "ref.zh").write_text("你好。\n", encoding="utf-8")
        monkeypatch.setattr(sys, "argv", ["mteval", "dataset=files", f"dataset.load.src={tmp_path / 'src.en'}",
                                          f"dataset.load.refs=[{tmp_path / 'ref.zh'}]",
                                          "system=copy", "metrics=[bleu]", "cache=null",
                                          f"hydra.run.dir={tmp_path / 'run'}", f"leaderboard={tmp_path / 'lb.csv'}"])
        monkeypatch.setenv("HYDRA_FULL_ERROR", "0")
        main()
    finally:
        other.kill()
        other.wait()
    assert cores._registration is None and not (tmp_path / "runs" / str(os.getpid())).exists()  # ended with the run
    assert "threads: 1 (this run's share of the cores)" in (tmp_path / "run" / "mteval.log").read_text()
