"""Output paths that are not plain files: a symlink is written through, a FIFO, a device or a dangling link is refused
with one line and left as it was; every write is whole or absent (issue 23, items 5 and 7; issue 18, item 3)."""
from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

import pytest

from mteval.commands.compare import main as compare_main
from mteval.commands.gate import main as gate_main
from mteval.errors import OutputError, UnsafeOutputError
from mteval.files import append_text, digest, output_target, write_atomic, write_json
from mteval.gate.baseline import load_baseline
from mteval.metrics.sacre import BLEU, ChrF
from mteval.results.io import write_run
from mteval.testing.runs import text_run
from mteval.types import Corpus, RunResult, Segment

REFS = ["今天天气很好。", "我们提出一种新方法。", "模型规模很重要。", "请检查你的订单。", "这家商店周日关门。"]
HYPS = ["今天天气好。", "一种新方法。", "模型很重要。", "检查订单。", "商店周日关门。"]
# The chosen rule, for every output path: write through a symlink to a regular file; refuse the rest.
KINDS = ["fifo", "device", "dangling-link", "link-to-fifo"]
NEEDLE = {"fifo": "is a FIFO (named pipe), not a regular file", "device": "is a character device",
          "dangling-link": "which does not exist; refusing to create a file through it",
          "link-to-fifo": "is a FIFO (named pipe) (through the symlink to"}


def _special(path: Path, kind: str) -> Path:
    """Put ``kind`` at ``path``: a FIFO, a copy of /dev/full's device node (1, 7), or a symlink."""
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        if os.geteuid() != 0:
            pytest.skip("making a device node needs root")
        # A node of its own, never the machine's /dev/full: a regression would replace this one only.
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
    elif kind == "dangling-link":
        path.symlink_to(path.parent / "nowhere" / "file")
    elif kind == "link-to-fifo":
        os.mkfifo(path.parent / "fifo")
        path.symlink_to(path.parent / "fifo")
    return path


def _unchanged(path: Path, kind: str) -> bool:
    mode = os.lstat(path).st_mode
    if kind == "fifo":
        return stat.S_ISFIFO(mode)
    if kind == "device":
        return stat.S_ISCHR(mode) and os.stat(path).st_rdev == os.makedev(1, 7)
    return stat.S_ISLNK(mode) and not (path.parent / "nowhere").exists()


def _no_temp_files(folder: Path) -> bool:
    return not [p for p in folder.rglob("*") if p.name.endswith(".tmp")]


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("runs")
    return {"good": text_run(root / "good", REFS, REFS, metrics=[BLEU(), ChrF()]),
            "bad": text_run(root / "bad", HYPS, REFS, metrics=[BLEU(), ChrF()])}


def _cli(main, capsys, *argv) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as ex:
        main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return ex.value.code, out, err


# --- mteval-gate --write-baseline --out, --junit, --summary-md ---------------------------------------------------

@pytest.mark.timeout(60)  # writing into a FIFO would block until a reader comes: fail, never hang
@pytest.mark.parametrize("kind", KINDS)
def test_write_baseline_out_refuses_what_is_not_a_file(runs, capsys, tmp_path, kind):
    out = _special(tmp_path / "b.json", kind)
    before = sorted(p.name for p in tmp_path.iterdir())
    code, _, err = _cli(gate_main, capsys, "--write-baseline", runs["good"], "--out", out)
    assert code == 2 and "Traceback" not in err
    (line,) = err.strip().splitlines()
    assert line.startswith(f"mteval-gate: error: --out {out}: ") and NEEDLE[kind] in line, line
    assert _unchanged(out, kind) and sorted(p.name for p in tmp_path.iterdir()) == before


def test_write_baseline_out_writes_through_a_symlink(runs, capsys, tmp_path):
    """``baseline.json -> kept/v1.json``: the link stays, the file it names gets the new baseline atomically."""
    real = tmp_path / "kept" / "v1.json"
    real.parent.mkdir()
    real.write_text("an older baseline\n", encoding="utf-8")
    link = tmp_path / "baseline.json"
    link.symlink_to(Path("kept") / "v1.json")  # relative, as one commits it
    code, out, err = _cli(gate_main, capsys, "--write-baseline", runs["good"], "--out", link)
    assert code == 0 and err == "" and "wrote baseline" in out
    assert link.is_symlink() and os.readlink(link) == str(Path("kept") / "v1.json")
    assert load_baseline(real).system == "good" and _no_temp_files(tmp_path)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("flag", ["--junit", "--summary-md"])
@pytest.mark.parametrize("kind", KINDS)
def test_gate_reports_refuse_what_is_not_a_file_before_any_work(runs, capsys, tmp_path, flag, kind):
    base = tmp_path / "base.json"
    assert _cli(gate_main, capsys, "--write-baseline", runs["good"], "--out", base)[0] == 0
    target = _special(tmp_path / "report", kind)
    code, out, err = _cli(gate_main, capsys, "--baseline", base, "--current", runs["good"], flag, target)
    assert code == 2 and out == "" and "Traceback" not in err
    (line,) = err.strip().splitlines()
    assert line.startswith(f"mteval-gate: error: {flag} {target}: ") and NEEDLE[kind] in line, line
    assert _unchanged(target, kind)


def test_step_summary_is_appended_through_a_symlink(runs, capsys, tmp_path, monkeypatch):
    """GitHub's step summary collects every step's output: appended to, never replaced, even behind a link."""
    base = tmp_path / "base.json"
    assert _cli(gate_main, capsys, "--write-baseline", runs["good"], "--out", base)[0] == 0
    real = tmp_path / "summary.md"
    real.write_text("earlier step\n", encoding="utf-8")
    link = tmp_path / "link.md"
    link.symlink_to(real)
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(link))
    assert _cli(gate_main, capsys, "--baseline", base, "--current", runs["bad"], "--summary-md", link)[0] == 1
    text = real.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n") and "regression" in text.lower() and link.is_symlink()


# --- mteval-compare --out and run directories ------------------------------------------------------------------

@pytest.mark.timeout(120)
@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_compare_out_refuses_a_special_file_in_place_of_an_output(runs, capsys, tmp_path, kind):
    out = tmp_path / "cmp"
    out.mkdir()
    target = _special(out / "results.json", kind)
    code, _, err = _cli(compare_main, capsys, runs["good"], runs["bad"], "--no-report", "--n-ar", "0",
                        "--n-bootstrap", "50", "--out", out)
    assert code == 2 and "Traceback" not in err
    (line,) = err.strip().splitlines()
    assert line.startswith("mteval-compare: error: ") and NEEDLE[kind] in line and "results.json" in line, line
    assert _unchanged(target, kind) and _no_temp_files(out)


@pytest.mark.timeout(60)
def test_run_dir_with_a_fifo_for_a_file_is_one_line_and_keeps_what_was_written(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    _special(run / "segments.csv", "fifo")
    corpus = Corpus(name="toy", src_lang="en", tgt_lang="zh", segments=[Segment(id="1", src="s", refs=["r"])])
    with pytest.raises(OutputError) as err:
        write_run(run, RunResult(dataset="toy", system="s", corpus=corpus, hypotheses=["h"], metrics={}))
    text = str(err.value)
    assert "\n" not in text and "cannot write segments.csv: is a FIFO" in text and "kept: hypotheses.txt" in text
    assert stat.S_ISFIFO(os.lstat(run / "segments.csv").st_mode) and not (run / "scores.json").exists()


# --- the helpers themselves ------------------------------------------------------------------------------------

def test_write_atomic_creates_replaces_and_leaves_nothing_behind_a_failure(tmp_path):
    path = tmp_path / "out.txt"
    assert write_atomic(path, "one\n") == path and path.read_text(encoding="utf-8") == "one\n"
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask  # as open() would create it, not mkstemp's 0600
    write_atomic(path, b"two\n")
    assert path.read_bytes() == b"two\n"

    def half_then_fail(tmp: Path) -> None:
        tmp.write_text("half", encoding="utf-8")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space"):
        write_atomic(path, half_then_fail)
    assert path.read_bytes() == b"two\n" and sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
def test_dev_full_is_refused_by_the_check_itself():
    """The path of issue 23's report, checked without writing anything (the check runs before any rename)."""
    with pytest.raises(UnsafeOutputError, match="is a character device"):
        output_target("/dev/full")
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


@pytest.mark.timeout(60)
def test_append_text_refuses_a_fifo(tmp_path):
    fifo = _special(tmp_path / "summary.md", "fifo")
    with pytest.raises(UnsafeOutputError, match="FIFO"):
        append_text(fifo, "x")


def test_digest_is_sha256_of_canonical_json():
    """Cache keys, leaderboard run keys and baseline hashes all rest on this exact byte form: pinned."""
    obj = {"b": [1, 2.5, None], "a": "中文", "c": {"z": True, "y": Path("/p")}}
    canonical = '{"a":"中文","b":[1,2.5,null],"c":{"y":"/p","z":true}}'.encode()
    assert digest(obj) == hashlib.sha256(canonical).hexdigest()
    assert digest(obj, 16) == digest(obj)[:16] and digest(["x"]) != digest("x")


def test_write_json_round_trips_and_keeps_unicode(tmp_path):
    path = write_json(tmp_path / "a.json", {"name": "语言", "path": Path("/x")}, indent=None)
    assert path.read_text(encoding="utf-8") == '{"name": "语言", "path": "/x"}\n'
    assert json.loads(path.read_text(encoding="utf-8")) == {"name": "语言", "path": "/x"}
