"""Every command is quiet on a closed stdout (``... | head -c0``): one line on stderr, exit 2, no traceback
(issue 23, defect 8: only mteval-gate handled it; a run printed three tracebacks)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import MTEVAL, ROOT

BIN = Path(MTEVAL).parent
CLOSED = "stdout was closed before all output was written (broken pipe)"


def closed_stdout_run(argv: list[str], cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """Run ``argv`` with stdout a pipe whose reader is already gone."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
        return subprocess.run(argv, stdout=write_end, stderr=subprocess.PIPE, text=True, env=env, cwd=cwd,
                              timeout=180)
    finally:
        os.close(write_end)


def assert_quiet(proc: subprocess.CompletedProcess, line: str = CLOSED) -> None:
    assert "Traceback" not in proc.stderr and "Logging error" not in proc.stderr, proc.stderr[-3000:]
    lines = [x for x in proc.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and line in lines[0], proc.stderr[-3000:]
    assert proc.returncode == 2


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> list[Path]:
    """Two finished runs on three segments (a copy system and a file system)."""
    d = tmp_path_factory.mktemp("pipe")
    (d / "src.en").write_text("Hello world.\nCats sleep.\nRain comes.\n", encoding="utf-8")
    (d / "ref.zh").write_text("你好，世界。\n猫睡觉。\n要下雨了。\n", encoding="utf-8")
    (d / "hyp.zh").write_text("你好世界。\n猫在睡。\n下雨。\n", encoding="utf-8")
    out = []
    for name, system in (("copy", ["system=copy"]), ("file", ["system=file", f"system.path={d}/hyp.zh"])):
        subprocess.run([MTEVAL, "dataset=files", f"dataset.load.src={d}/src.en", f"dataset.load.refs=[{d}/ref.zh]",
                        *system, "metrics=[bleu]", "cache=null", f"hydra.run.dir={d}/{name}",
                        f"leaderboard={d}/lb.csv"], check=True, capture_output=True, cwd=ROOT, timeout=120)
        out.append(d / name)
    return out


def test_a_run_writes_every_file_and_ends_in_one_line(runs, tmp_path):
    src = runs[0].parent
    proc = closed_stdout_run([MTEVAL, "dataset=files", f"dataset.load.src={src}/src.en",
                              f"dataset.load.refs=[{src}/ref.zh]", "system=copy", "metrics=[bleu]", "cache=null",
                              f"hydra.run.dir={tmp_path}/run", f"leaderboard={tmp_path}/lb.csv"])
    assert_quiet(proc)
    assert (tmp_path / "run" / "scores.json").is_file() and (tmp_path / "lb.csv").is_file()


def test_mteval_help_is_quiet():
    assert_quiet(closed_stdout_run([MTEVAL, "--help"]))


@pytest.mark.parametrize("prog", ["mteval-compare", "mteval-gate", "mteval-prefetch", "mteval-corpus"])
def test_argparse_help_is_silent_and_exit_0(prog):
    """argparse drops help text it cannot write and exits 0, as documented for --help: no line, no traceback."""
    proc = closed_stdout_run([str(BIN / prog), "--help"])
    assert (proc.returncode, proc.stderr) == (0, "")


def test_a_listing_is_quiet():
    assert_quiet(closed_stdout_run([str(BIN / "mteval-prefetch"), "--dry-run", "system=opus_mt_en_zh",
                                    "metrics=[comet]"]))


@pytest.mark.parametrize("how", ["console script", "python -m"])
def test_corpus_listing_is_quiet(how):
    pages = str(ROOT / "data" / "abstracts")
    argv = [str(BIN / "mteval-corpus")] if how == "console script" else [sys.executable, "-m", "mteval.commands.corpus"]
    assert_quiet(closed_stdout_run([*argv, pages]))


def test_compare_writes_its_report_and_ends_in_one_line(runs, tmp_path):
    proc = closed_stdout_run([str(BIN / "mteval-compare"), *map(str, runs), "--out", str(tmp_path / "cmp"),
                              "--no-report", "--n-bootstrap", "50", "--n-ar", "0", "--jobs", "1"])
    assert_quiet(proc)
    assert (tmp_path / "cmp" / "table.csv").is_file()


def test_gate_names_the_verdict(runs):
    proc = closed_stdout_run([str(BIN / "mteval-gate"), "--baseline", str(runs[0]), "--current", str(runs[0])])
    assert_quiet(proc, "stdout was closed before the result was printed (broken pipe); the verdict was PASS")
