"""mteval-gate fails closed: every malformed baseline, run, config, argument or output is one line and exit 2;
exit 1 only for a real regression (issue 11, items 1 and 2)."""
from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mteval.commands.gate import main
from mteval.metrics.sacre import BLEU, ChrF
from mteval.testing.runs import text_run

REFS = ["今天天气很好。", "我们提出一种新方法。", "模型规模很重要。", "请检查你的订单。", "这家商店周日关门。",
        "他昨天去了北京。", "数据集包含两千个句子。", "翻译质量提高了。", "会议推迟到下周。", "价格包括运费。",
        "火车晚点了十分钟。", "她每天早上跑步。"]
BAD = ["天气", "方法", "模型", "订单", "商店", "北京", "句子", "质量", "会议", "运费", "火车", "跑步"]
GOOD_CONFIG = "alpha: 0.05\nn_resamples: 200\nseed: 1\nmin_effect: {bleu: 0.5, chrf: 0.5}\n"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, Path]:
    """A good run, a much worse run of the same data, their baseline file and a valid gate config."""
    root = tmp_path_factory.mktemp("gate")
    good = text_run(root / "good", REFS, REFS, metrics=[BLEU(), ChrF()])
    bad = text_run(root / "bad", BAD, REFS, metrics=[BLEU(), ChrF()])
    cfg = root / "gate.yaml"
    cfg.write_text(GOOD_CONFIG, encoding="utf-8")
    base = root / "base.json"
    with pytest.raises(SystemExit) as ex:
        main(["--write-baseline", str(good), "--out", str(base)])
    assert ex.value.code == 0
    return {"root": root, "good": good, "bad": bad, "cfg": cfg, "base": base}


def gate(capsys, *argv: str) -> tuple[int, str, str]:
    """Run the CLI entry point in-process; (exit status, stdout, stderr)."""
    with pytest.raises(SystemExit) as ex:
        main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return ex.value.code, out, err


def assert_refused(code: int, err: str, needle: str) -> None:
    """Exit 2, one line on stderr naming the problem, no traceback."""
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mteval-gate: error: "), err
    assert needle in lines[0], lines[0]


# --- baselines --------------------------------------------------------------------------------------------------

def _edit_baseline(data: dict, change: str) -> object:
    seg = data["segments"][0]
    if change == "list":
        return [data]
    if change == "format":
        data["format"] = "mteval-baseline/0"
    elif change.startswith("del:"):
        del data[change[4:]]
    elif change == "score-str":
        data["metrics"]["bleu"]["score"] = "54.3"
    elif change == "score-nan":
        data["metrics"]["bleu"]["score"] = float("nan")
    elif change == "score-null":
        data["metrics"]["bleu"]["score"] = None
    elif change == "signature-int":
        data["metrics"]["bleu"]["signature"] = 7
    elif change == "hib-str":
        data["metrics"]["bleu"]["higher_is_better"] = "yes"
    elif change == "metrics-empty":
        data["metrics"] = {}
    elif change == "segments-empty":
        data["segments"] = []
    elif change == "segments-dict":
        data["segments"] = {"1": seg}
    elif change == "n-segments":
        data["n_segments"] = 99
    elif change == "direction":
        data["direction"] = "enzh"
    elif change == "seg-no-stats":
        del seg["stats"]
    elif change == "seg-no-hyp":
        del seg["hyp"]
    elif change == "seg-not-object":
        data["segments"][0] = "1"
    elif change == "seg-score-str":
        seg["scores"]["bleu"] = "high"
    elif change == "stats-str":
        seg["stats"]["bleu"] = "1 2 3"
    elif change == "stats-width":
        seg["stats"]["bleu"] = seg["stats"]["bleu"][:-1]
    elif change == "stats-missing-metric":
        del seg["stats"]["chrf"]
    elif change == "edited-score":
        data["metrics"]["bleu"]["score"] += 20
    return data


BASELINE_CASES = [
    ("list", "not an mteval-baseline/1 baseline file"),
    ("format", "not an mteval-baseline/1 baseline file"),
    ("del:segments", "missing key 'segments'"),
    ("del:metrics", "missing key 'metrics'"),
    ("del:dataset", "missing key 'dataset'"),
    ("score-str", "'metrics.bleu.score' must be a number, got str"),
    ("score-nan", "must be a finite number"),
    ("score-null", "'metrics.bleu.score' must be a number, got null"),
    ("signature-int", "'metrics.bleu.signature' must be a string"),
    ("hib-str", "higher_is_better' must be true or false"),
    ("metrics-empty", "'metrics' is empty"),
    ("segments-empty", "'segments' is empty"),
    ("segments-dict", "'segments' must be a list"),
    ("n-segments", "'n_segments' says 99"),
    ("direction", "'direction' must look like 'en-zh'"),
    ("seg-no-stats", "missing key 'segments[1].stats'"),
    ("seg-no-hyp", "missing key 'segments[1].hyp'"),
    ("seg-not-object", "segment 1 must be an object"),
    ("seg-score-str", "segment score 'bleu' must be a finite number or null"),
    ("stats-str", "stats 'bleu' must be a list of finite numbers"),
    ("stats-width", "segment 2: stats 'bleu' has 10 numbers, earlier segments 9"),
    ("stats-missing-metric", "segment 2 has statistics for ['bleu']"),
    ("edited-score", "the file was edited or is incomplete"),
]


@pytest.mark.parametrize(("change", "needle"), BASELINE_CASES, ids=[c for c, _ in BASELINE_CASES])
def test_malformed_baseline_is_exit_2(corpus, capsys, tmp_path, change, needle):
    data = _edit_baseline(json.loads(corpus["base"].read_text(encoding="utf-8")), change)
    if change == "stats-missing-metric":  # the first segment keeps both: segment 2 is the odd one
        data = json.loads(corpus["base"].read_text(encoding="utf-8"))
        del data["segments"][1]["stats"]["chrf"]
    path = tmp_path / "base.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    code, out, err = gate(capsys, "--baseline", path, "--current", corpus["bad"], "--config", corpus["cfg"])
    if code == 2 and not err:  # refused comparisons are a verdict on stdout: "CANNOT COMPARE"
        assert "CANNOT COMPARE" in out and needle in out, out
        return
    assert_refused(code, err, needle)


@pytest.mark.parametrize(
    ("content", "needle"),
    [(b"", "not valid JSON"), (b"{not json", "not valid JSON"), (b"\xff\xfe{}", "not UTF-8"),
     (None, "baseline file not found"), ("dir", "is a directory, not a baseline file")],
    ids=["empty", "not-json", "not-utf8", "missing", "empty-dir"],
)
def test_unreadable_baseline_is_exit_2(corpus, capsys, tmp_path, content, needle):
    path = tmp_path / "base.json"
    if content == "dir":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    code, _, err = gate(capsys, "--baseline", path, "--current", corpus["bad"], "--config", corpus["cfg"])
    assert_refused(code, err, needle)


def test_run_directory_as_baseline_is_snapshotted(corpus, capsys):
    """A finished run dir as --baseline is read like a baseline file: it passes against itself and fails a drop."""
    assert gate(capsys, "--baseline", corpus["good"], "--current", corpus["good"], "--config", corpus["cfg"])[0] == 0
    code, out, _ = gate(capsys, "--baseline", corpus["good"], "--current", corpus["bad"], "--config", corpus["cfg"])
    assert code == 1 and "FAIL (regression)" in out


# --- current runs -----------------------------------------------------------------------------------------------

def _broken_run(src: Path, dst: Path, change: str) -> Path:
    import shutil

    shutil.copytree(src, dst)
    scores_path, seg_path = dst / "scores.json", dst / "segments.jsonl"
    scores = json.loads(scores_path.read_text(encoding="utf-8"))
    rows = [json.loads(line) for line in seg_path.read_text(encoding="utf-8").splitlines()]
    if change == "scores-no-metrics":
        del scores["metrics"]
    elif change == "scores-score-str":
        scores["metrics"]["bleu"]["score"] = "12.5"
    elif change == "scores-n-str":
        scores["n_segments"] = "12"
    elif change == "scores-n-wrong":
        scores["n_segments"] = 3
    elif change == "scores-not-object":
        scores = [scores]
    elif change == "row-no-hyp":
        del rows[4]["hyp"]
    elif change == "row-score-str":
        rows[4]["bleu"] = "n/a"
    elif change == "row-refs-str":
        rows[4]["refs"] = "今天"
    elif change == "metric-class":
        scores["metrics"]["bleu"]["metric"]["class"] = "os.system"
    elif change == "metric-settings":
        scores["metrics"]["bleu"]["metric"]["settings"] = {"tokenize": "no-such-tokenizer"}
    elif change == "no-segments":
        seg_path.unlink()
    if change == "scores-not-json":
        scores_path.write_text("{", encoding="utf-8")
    else:
        scores_path.write_text(json.dumps(scores, ensure_ascii=False), encoding="utf-8")
    if seg_path.exists():
        seg_path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return dst


RUN_CASES = [
    ("scores-no-metrics", "missing key 'metrics'"),
    ("scores-score-str", "'metrics.bleu.score' must be a number, got str"),
    ("scores-n-str", "'n_segments' must be a whole number, got str"),
    ("scores-n-wrong", "12 rows but scores.json says 3"),
    ("scores-not-object", "expected a JSON object, got list"),
    ("scores-not-json", "not valid JSON"),
    ("row-no-hyp", "segments.jsonl:5: missing key 'hyp'"),
    ("row-score-str", "segments.jsonl:5: segment score 'bleu' must be a finite number or null"),
    ("row-refs-str", "segments.jsonl:5: 'refs' must be a list of strings"),
    ("no-segments", "segments.jsonl: missing"),
    ("metric-class", "bleu: one run has sufficient statistics and the other does not"),  # never imported
    ("metric-settings", "cannot be rebuilt"),
]


@pytest.mark.parametrize(("change", "needle"), RUN_CASES, ids=[c for c, _ in RUN_CASES])
def test_malformed_current_run_is_exit_2(corpus, capsys, tmp_path, change, needle):
    run = _broken_run(corpus["bad"], tmp_path / "run", change)
    code, out, err = gate(capsys, "--baseline", corpus["base"], "--current", run, "--config", corpus["cfg"])
    assert code == 2 and "Traceback" not in err and not err, err
    assert "CANNOT COMPARE" in out and needle in out, out


def test_malformed_run_as_baseline_is_one_line(corpus, capsys, tmp_path):
    run = _broken_run(corpus["good"], tmp_path / "run", "row-score-str")
    code, _, err = gate(capsys, "--baseline", run, "--current", corpus["bad"], "--config", corpus["cfg"])
    assert_refused(code, err, "segment score 'bleu' must be a finite number or null")


def test_other_dataset_is_refused_not_failed(corpus, capsys, tmp_path):
    other = text_run(tmp_path / "other", BAD, REFS, metrics=[BLEU(), ChrF()], dataset="other")
    code, out, _ = gate(capsys, "--baseline", corpus["base"], "--current", other, "--config", corpus["cfg"])
    assert code == 2 and "dataset differs" in out


# --- gate configs -----------------------------------------------------------------------------------------------

CONFIG_CASES = [
    ("min_effect: {bleu: .nan, chrf: 0.5}", "min_effect.bleu must be a finite number, got nan"),
    ("min_effect: {bleu: .inf, chrf: 0.5}", "min_effect.bleu must be a finite number, got inf"),
    ("min_effect: {bleu: -0.5, chrf: 0.5}", "min_effect.bleu must be >= 0"),
    ("min_effect: {bleu: abc, chrf: 0.5}", "min_effect.bleu must be a number, got 'abc'"),
    ("min_effect: {bleu: 5e-1, chrf: 0.5}", "got '5e-1' (YAML reads a number without a '.'"),
    ("min_effect: {bleu: true, chrf: 0.5}", "min_effect.bleu must be a number, got True"),
    ("min_effect: [0.5]", "min_effect must be a mapping"),
    ("min_effect: {bleu: 101, chrf: 0.5}", "min_effect.bleu=101: bleu lies between 0 and 100"),
    ("min_effect: {bleu: 0.5}", "gate.yaml: no min_effect for chrf"),
    ("min_effect: {bleu: 0.5, chrf: 0.5}\nalpha: 0", "alpha must be strictly between 0 and 1, got 0"),
    ("min_effect: {bleu: 0.5, chrf: 0.5}\nalpha: 1", "alpha must be strictly between 0 and 1, got 1"),
    ("min_effect: {bleu: 0.5, chrf: 0.5}\nalpha: 1.5", "alpha must be strictly between 0 and 1"),
    ("min_effect: {bleu: 0.5, chrf: 0.5}\nalpha: -0.05", "alpha must be strictly between 0 and 1"),
    ("min_effect: {bleu: 0.5, chrf: 0.5}\nalpha: .nan", "alpha must be a finite number"),
    ("min_effect: {bleu: 0.5, chrf: 0.5}\nalpha: 5e-2", "write 0.05"),
    ("min_effect: {bleu: 0.5, chrf: 0.5}\nn_resamples: 19", "n_resamples=19 can never fail the gate"),
    ("min_effect: {bleu: 0.5, chrf: 0.5}\nn_resamples: 10\nalpha: 0.01", "use at least 100"),
    ("min_effect: {bleu: 0.5, chrf: 0.5}\nn_resamples: 20000\nalpha: 0.00001", "needs more than the 20000"),
    ("min_effect: {bleu: 0.5, chrf: 0.5}\nn_resamples: 0", "n_resamples must be between 1 and"),
    ("min_effect: {bleu: 0.5, chrf: 0.5}\nn_resamples: 1000000000", "n_resamples must be between 1 and"),
    ("min_effect: {bleu: 0.5, chrf: 0.5}\nn_resamples: 1000.5", "n_resamples must be a whole number"),
    ("min_effect: {bleu: 0.5, chrf: 0.5}\nn_resamples: '1000'", "n_resamples must be a whole number"),
    ("min_effect: {bleu: 0.5, chrf: 0.5}\nseed: -1", "seed must be >= 0"),
    ("min_effect: {bleu: 0.5, chrf: 0.5}\nseed: abc", "seed must be a whole number"),
    ("min_effect: {bleu: 0.5, chrf: 0.5}\nmetrics: bleu", "metrics must be null or a list"),
    ("min_effect: {bleu: 0.5, chrf: 0.5}\nmetrics: []", "non-empty list of distinct metric names"),
    ("min_effect: {bleu: 0.5, chrf: 0.5}\nmetrics: [bleu, bleu]", "non-empty list of distinct metric names"),
    ("min_effect: {bleu: 0.5, chrf: 0.5}\nmin_efect: 1", "unknown key(s) min_efect"),
    ("- alpha: 0.05", "a gate config is a mapping"),
    ("alpha: [", "not valid YAML"),
]


@pytest.mark.parametrize(("text", "needle"), CONFIG_CASES, ids=[f"cfg{i}" for i in range(len(CONFIG_CASES))])
def test_bad_gate_config_is_exit_2(corpus, capsys, tmp_path, text, needle):
    """Each config is tried on a 40-BLEU drop: one that switched the gate off would exit 0 here."""
    cfg = tmp_path / "gate.yaml"
    cfg.write_text(text + "\n", encoding="utf-8")
    code, _, err = gate(capsys, "--baseline", corpus["base"], "--current", corpus["bad"], "--config", cfg)
    assert_refused(code, err, needle)


def test_smallest_resample_count_that_can_fail_is_accepted(corpus, capsys, tmp_path):
    cfg = tmp_path / "gate.yaml"
    cfg.write_text("min_effect: {bleu: 0.5, chrf: 0.5}\nn_resamples: 20\n", encoding="utf-8")
    code, out, _ = gate(capsys, "--baseline", corpus["base"], "--current", corpus["bad"], "--config", cfg)
    assert code == 1 and "p=0.0476" in out  # 1/21: the one p-value below 0.05 that 20 resamples can give


def test_unknown_metric_to_gate_is_refused(corpus, capsys, tmp_path):
    cfg = tmp_path / "gate.yaml"
    cfg.write_text("min_effect: {bleu: 0.5, comet: 0.01}\nmetrics: [bleu, comet]\n", encoding="utf-8")
    code, out, _ = gate(capsys, "--baseline", corpus["base"], "--current", corpus["bad"], "--config", cfg)
    assert code == 2 and "the baseline has no comet score" in out


@pytest.mark.parametrize("which", ["missing", "dir", "not-utf8"])
def test_unreadable_gate_config_is_exit_2(corpus, capsys, tmp_path, which):
    cfg = tmp_path / "gate.yaml"
    if which == "dir":
        cfg.mkdir()
    elif which == "not-utf8":
        cfg.write_bytes(b"alpha: \xff\n")
    code, _, err = gate(capsys, "--baseline", corpus["base"], "--current", corpus["bad"], "--config", cfg)
    assert_refused(code, err, str(cfg))


# --- arguments and outputs --------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("argv", "needle"),
    [([], "--baseline and --current are required"), (["--baseline", "x"], "--baseline and --current are required"),
     (["--no-such-flag"], "unrecognized arguments: --no-such-flag"),
     (["--write-baseline", "run"], "--write-baseline needs --out"),
     (["--write-baseline", "missing-run", "--out", "{root}/b.json"], "missing-run/scores.json: missing")],
    ids=["none", "no-current", "unknown-flag", "no-out", "missing-run"],
)
def test_bad_arguments_are_exit_2(corpus, capsys, argv, needle):
    code, _, err = gate(capsys, *[a.format(root=corpus["root"]) for a in argv])
    assert_refused(code, err, needle)


def test_write_baseline_of_unknown_metric_is_exit_2(corpus, capsys, tmp_path):
    code, _, err = gate(capsys, "--write-baseline", corpus["good"], "--out", tmp_path / "b.json", "--metrics", "ter")
    assert_refused(code, err, "has no metric ter")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("flag", ["--junit", "--summary-md"])
@pytest.mark.parametrize("where", ["dir", "under-file", "full-disk"])
def test_unwritable_output_is_exit_2_even_on_a_pass(corpus, capsys, tmp_path, monkeypatch, flag, where):
    """A passing gate that cannot write its report is not a pass CI can trust: exit 2, one line.
    (A FIFO, a device such as /dev/full or a dangling link as the output: tests/unit/test_output_paths.py.)"""
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    target = {"dir": tmp_path, "under-file": blocker / "out.xml", "full-disk": tmp_path / "out.xml"}[where]
    if where == "full-disk":  # the disk fills while the report is written
        real_replace = os.replace

        def replace(src, dst):
            if Path(dst) == target:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return real_replace(src, dst)

        monkeypatch.setattr(os, "replace", replace)
    code, _, err = gate(capsys, "--baseline", corpus["base"], "--current", corpus["good"], "--config", corpus["cfg"],
                        flag, target)
    needle = {"dir": "is a directory", "under-file": "is a file, not a directory",
              "full-disk": "No space left on device"}[where]
    assert_refused(code, err, f"{flag} {target}")
    assert needle in err
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_unwritable_baseline_out_is_exit_2(corpus, capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    code, _, err = gate(capsys, "--write-baseline", corpus["good"], "--out", blocker / "b.json")
    assert_refused(code, err, "is a file, not a directory")


def _subprocess_gate(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mteval.commands.gate", *map(str, args)], text=True, timeout=120,
                          stderr=subprocess.PIPE, env={**os.environ, "PYTHONWARNINGS": "ignore"}, **kwargs)


def test_closed_stdout_is_exit_2_and_names_the_verdict(corpus):
    """``mteval-gate ... | head`` with head gone: the verdict could not be printed; exit 2, not a traceback."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = _subprocess_gate(["--baseline", corpus["base"], "--current", corpus["bad"], "--config", corpus["cfg"]],
                                stdout=write_end)
    finally:
        os.close(write_end)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert "broken pipe" in line and "the verdict was FAIL (regression)" in line


def test_regression_is_the_only_exit_1(corpus):
    """The real thing, as CI runs it: a separate process, a 40-point BLEU drop, exit 1 and the reason."""
    proc = _subprocess_gate(["--baseline", corpus["base"], "--current", corpus["bad"], "--config", corpus["cfg"]],
                            stdout=subprocess.PIPE)
    assert proc.returncode == 1 and proc.stderr == "", proc.stderr
    assert "FAIL (regression)" in proc.stdout and "significant" in proc.stdout
    same = _subprocess_gate(["--baseline", corpus["base"], "--current", corpus["good"], "--config", corpus["cfg"]],
                            stdout=subprocess.PIPE)
    assert same.returncode == 0 and "PASS" in same.stdout
