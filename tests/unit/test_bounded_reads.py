"""Every file a user names is a regular file read under a stated size bound (issue 23, defect 3).

``system.path=/dev/zero`` once read 24 GB before the out-of-memory killer stopped it, and a FIFO
blocks an ``open`` for ever: each reader here meets a device, a FIFO and an oversized file, and
must refuse it in one line naming the file (and, for size, the bound and how to raise it).
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from mteval.errors import MtevalError
from tests.helpers import MTEVAL, ROOT

SRC = "Hello world.\nThe model translates abstracts.\n"
REF = "你好，世界。\n模型翻译摘要。\n"


def _readers() -> dict:
    """Every entry that reads a file a user names, as ``path -> result``."""
    from mteval.compare.human import read_human
    from mteval.data.hf_datasets import load_hf
    from mteval.data.jsonl import load_jsonl, references_by_id
    from mteval.data.originals import read_id_map
    from mteval.data.plaintext import load_files
    from mteval.data.seeds import read_page
    from mteval.data.wmt_xml import load_wmt_xml
    from mteval.gate.baseline import load_baseline
    from mteval.gate.config import GateConfig
    from mteval.systems.file import FileSystem

    lang = {"direction": "en-zh"}
    return {
        "files-src": lambda p: load_files(name="t", src=p, **lang),
        "system-file": lambda p: FileSystem(path=p).translate(["a"], src_lang="en", tgt_lang="zh"),
        "jsonl": lambda p: load_jsonl(name="t", path=p, **lang),
        "references": references_by_id,
        "wmt-xml": lambda p: load_wmt_xml(name="t", path=p, **lang),
        "hf-local-file": lambda p: load_hf(name="t", path=p, split="train", **lang),
        "seed-page": read_page,
        "arxiv-id-map": read_id_map,
        "gate-config": GateConfig.from_file,
        "gate-baseline": load_baseline,
        "human-scores": lambda p: read_human([p]),
    }


READERS = sorted(_readers())


@pytest.fixture
def fifo(tmp_path) -> str:
    path = tmp_path / "pipe.jsonl"
    os.mkfifo(path)
    return str(path)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("reader", READERS)
def test_a_device_is_refused_before_it_is_read(reader):
    with pytest.raises(MtevalError, match=r"/dev/zero: is a character device, expected a regular file"):
        _readers()[reader]("/dev/zero")


@pytest.mark.timeout(30)
@pytest.mark.parametrize("reader", READERS)
def test_a_fifo_is_refused_without_blocking(reader, fifo):
    # Opening a FIFO for reading waits for a writer: the check must come before any open.
    with pytest.raises(MtevalError, match=r"pipe\.jsonl: is a named pipe \(FIFO\), expected a regular file"):
        _readers()[reader](fifo)


@pytest.mark.parametrize("reader", READERS)
def test_a_file_over_the_bound_names_the_bound_and_the_setting(reader, tmp_path, monkeypatch):
    path = tmp_path / "big.jsonl"
    path.write_text(json.dumps({"src": "x" * 3000}) + "\n", encoding="utf-8")
    monkeypatch.setenv("MTEVAL_MAX_FILE_MB", "0.002")
    with pytest.raises(MtevalError, match=r"big\.jsonl: is 0\.003\d* MB, over the 0\.002 MB bound on input files; "
                                          r"raise it with MTEVAL_MAX_FILE_MB=<MB>"):
        _readers()[reader](str(path))


def test_the_bound_must_be_a_positive_number(tmp_path, monkeypatch):
    from mteval.data.userfile import read_bounded

    (tmp_path / "a").write_text("a\n", encoding="utf-8")
    for bad in ("0", "-1", "lots", "nan", "inf"):
        monkeypatch.setenv("MTEVAL_MAX_FILE_MB", bad)
        with pytest.raises(MtevalError, match="MTEVAL_MAX_FILE_MB=.*not a positive number of megabytes"):
            read_bounded(tmp_path / "a")
    monkeypatch.setenv("MTEVAL_MAX_FILE_MB", "1")
    assert read_bounded(tmp_path / "a") == b"a\n"


def test_a_proc_file_is_read_within_the_bound(monkeypatch):
    """``/proc`` files report size 0: the read itself stops at the bound, not only the stat."""
    from mteval.data.userfile import read_bounded

    monkeypatch.setenv("MTEVAL_MAX_FILE_MB", "0.00001")  # 10 bytes
    with pytest.raises(MtevalError, match=r"grew past 1e-05 MB while read"):
        read_bounded("/proc/self/status")


def _mteval(tmp_path: Path, *overrides: str) -> subprocess.CompletedProcess:
    (tmp_path / "src.en").write_text(SRC, encoding="utf-8")
    (tmp_path / "ref.zh").write_text(REF, encoding="utf-8")
    args = ["dataset=files", f"dataset.load.src={tmp_path}/src.en", f"dataset.load.refs=[{tmp_path}/ref.zh]",
            "metrics=[bleu]", "cache=null", f"hydra.run.dir={tmp_path}/run", *overrides]
    if not any(o.startswith("leaderboard=") for o in overrides):
        args.append(f"leaderboard={tmp_path}/leaderboard.csv")
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run([MTEVAL, *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)


def test_system_path_dev_zero_is_one_line_through_the_cli(tmp_path):
    proc = _mteval(tmp_path, "system=file", "system.path=/dev/zero")
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert proc.stderr.strip().splitlines() == [
        "mteval: error: /dev/zero: is a character device, expected a regular file"]


def test_leaderboard_on_a_fifo_is_a_warning_not_a_hang(tmp_path):
    os.mkfifo(tmp_path / "board.csv")
    proc = _mteval(tmp_path, "system=copy", f"leaderboard={tmp_path}/board.csv")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "board.csv: is a FIFO (named pipe), not a regular file" in proc.stdout + proc.stderr
    assert (tmp_path / "run" / "scores.json").is_file()
