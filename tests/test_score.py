"""`mteval-score`, the sacrebleu habit: files in, scores with signatures out; with several files the paired
tests against the first. Its BLEU, chrF, TER and p-values equal the sacrebleu CLI's on the same files."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import sacrebleu_field

SACREBLEU = str(Path(sys.executable).parent / "sacrebleu")
SRC, REF = "The cat sat on the mat.\nIt rained all day.\n", "猫坐在垫子上。\n下了一整天的雨。\n"


def score(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "mteval.commands.score", *args], capture_output=True, text=True,
                          timeout=900, env=env, cwd=cwd)


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


def sacrebleu_json(ref: str, hyps: list[str], langpair: str, *extra: str) -> dict:
    out = subprocess.run([SACREBLEU, ref, "-i", *hyps, "-l", langpair, "-m", "bleu", "chrf", "ter", "-w", "4",
                          "-f", "json", *extra], capture_output=True, text=True, check=True, timeout=900,
                         env={**os.environ, "SACREBLEU_SEED": "12345"}).stdout
    rows = json.loads(out)
    return {row["name"]: row for row in rows} if isinstance(rows[0], dict) and "name" in rows[0] else rows


SYSTEMS = {"en-zh": ("LanguageX", "HuaweiTSC", "Online-G"), "zh-en": ("NiuTrans", "Online-A", "Online-G")}


@pytest.mark.slow
@pytest.mark.parametrize("langpair", ["en-zh", "zh-en"])
def test_scores_and_paired_p_values_equal_sacrebleu_both_directions(langpair, tmp_path):
    """WMT22 text (its first 400 segments, three submissions): BLEU, chrF, TER, the bootstrap mean and interval
    and both paired p-values equal `sacrebleu --paired-bs` / `--paired-ar` with the settings mteval's signature names."""
    src_lang, tgt_lang = langpair.split("-")
    paths = {}
    for field in ("src", "ref:A", *SYSTEMS[langpair]):
        lines = sacrebleu_field(langpair, field).read_text(encoding="utf-8").splitlines()[:400]
        paths[field] = tmp_path / f"{field.replace(':', '_')}.{src_lang if field == 'src' else tgt_lang}"
        paths[field].write_text("\n".join(lines) + "\n", encoding="utf-8")
    hyps = [str(paths[s]) for s in SYSTEMS[langpair]]
    proc = score("-s", str(paths["src"]), "-r", str(paths["ref:A"]), "-i", *hyps, "-l", langpair,
                 "-m", "bleu", "chrf", "ter", "--json", "--no-cache", "--out", str(tmp_path / "o"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    ours = json.loads(proc.stdout)
    # TER for a Chinese target is scored with asian_support and normalisation (its signature says so).
    ter_sig = ours["metrics"]["ter"]["signature"]
    ter = [flag for flag, part in (("--ter-asian-support", "asian:yes"), ("--ter-normalized", "norm:yes"))
           if part in ter_sig]
    single = sacrebleu_json(str(paths["ref:A"]), hyps[:1], langpair, *ter)
    bs = sacrebleu_json(str(paths["ref:A"]), hyps, langpair, *ter, "--paired-bs", "--paired-bs-n", "1000")
    ar = sacrebleu_json(str(paths["ref:A"]), hyps, langpair, *ter, "--paired-ar")
    for metric, key in (("bleu", "BLEU"), ("chrf", "chrF2"), ("ter", "TER")):
        m = ours["metrics"][metric]
        assert m["signature"] == single[key]["signature"], metric
        for name, row_bs, row_ar in zip(SYSTEMS[langpair], bs, ar, strict=True):
            got, base = m["systems"][Path(paths[name]).name], row_bs[key]
            assert (got["score"], got["mean"], got["ci"], got["p_bs"]) == (
                base["score"], base["mean"], base["ci"], base["p_value"]), (metric, name)
            assert got["p_ar"] == row_ar[key]["p_value"], (metric, name)
        assert round(m["systems"][Path(hyps[0]).name]["score"], 4) == single[key]["score"]


@pytest.mark.slow
def test_a_registered_test_set_reproduces_the_wmt22_number(tmp_path):
    """`-t wmt22 -l en-zh` reads the test set through sacrebleu; LanguageX scores BLEU 54.3460 as published."""
    proc = score("-t", "wmt22", "-l", "en-zh", "-i", str(sacrebleu_field("en-zh", "LanguageX")), "-m", "bleu", "chrf",
                 "--no-cache", "--out", str(tmp_path / "o"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith("wmt22_en-zh | wmt22.en-zh.LanguageX | en-zh | 2037 segments")
    assert any(l.split()[:2] == ["bleu", "54.3460"] for l in proc.stdout.splitlines()), proc.stdout
