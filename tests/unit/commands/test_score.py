"""`mteval-score`, the sacrebleu habit: files in, scores with signatures out, bad input in one line; on WMT22:
tests/e2e/test_score_wmt22.py."""
from __future__ import annotations

import pytest

from tests.helpers import mteval_score as score, sacrebleu_json

SRC, REF = "The cat sat on the mat.\nIt rained all day.\n", "猫坐在垫子上。\n下了一整天的雨。\n"


@pytest.fixture
def files(tmp_path) -> dict[str, str]:
    out = {}
    for name, text in (("src.en", SRC), ("ref.zh", REF), ("hyp.zh", "猫坐在垫子上。\n整天下雨。\n"),
                       ("long.zh", "猫坐在垫子上。\n整天下雨。\n多了一行。\n")):
        (tmp_path / name).write_text(text, encoding="utf-8")
        out[name] = str(tmp_path / name)
    return out


@pytest.mark.parametrize(("args", "message"), [
    (["-i", "{long}", "-m", "bleu", "comet"], "long.zh:3: has 3 hypothesis lines but the dataset has 2 segments"),
    (["-i", "{hyp}", "{tmp}/missing.zh", "-m", "comet"], "missing.zh: file not found"),
    (["-i", "{hyp}", "-m", "bleu", "bluert"], "-m bluert: no such metric; choose from bleu, chrf"),
])
def test_bad_input_is_one_line_and_exit_2_before_any_model_loads(files, tmp_path, args, message):
    """COMET is asked for but never loaded (offline, it would fail naming its model): the files fail first."""
    args = [a.format(tmp=tmp_path, hyp=files["hyp.zh"], long=files["long.zh"]) for a in args]
    proc = score("-s", files["src.en"], "-r", files["ref.zh"], "-l", "en-zh", "--out", str(tmp_path / "o"), *args)
    assert proc.returncode == 2 and proc.stdout == ""
    (line,) = proc.stderr.splitlines()
    assert line.startswith("mteval-score: error: ") and message in line, line
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(("args", "message"), [
    (["-l", "english-chinese"], "-l english-chinese: a language pair looks like en-zh or zh-en"),
    (["-l", "en-zh", "-t", "wmt22"], "-t names a test set with its own source and references: leave out -s and -r"),
])
def test_bad_settings_are_one_line(files, args, message):
    proc = score("-s", files["src.en"], "-i", files["hyp.zh"], *args)
    assert proc.returncode == 2 and proc.stderr == f"mteval-score: error: {message}\n"


def test_one_file_prints_the_table_with_signatures_and_writes_a_run_dir(files, tmp_path):
    proc = score("-s", files["src.en"], "-r", files["ref.zh"], "-i", files["hyp.zh"], "-l", "en-zh",
                 "-m", "bleu", "chrf", "--out", str(tmp_path / "o"), "--no-cache")
    assert proc.returncode == 0, proc.stderr
    theirs = sacrebleu_json(files["ref.zh"], [files["hyp.zh"]], "en-zh")
    for metric, key in (("bleu", "BLEU"), ("chrf", "chrF2")):
        line = next(l for l in proc.stdout.splitlines() if l.split()[:1] == [metric])
        assert line.split()[1] == f"{theirs[key]['score']:.4f}" and line.split()[-1] == theirs[key]["signature"]
    assert (tmp_path / "o" / "0_hyp.zh" / "scores.json").is_file()
