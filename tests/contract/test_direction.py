"""One meaning of ``dataset.direction``: parsed once (types.Direction), honoured by the file loaders,
and refused where the data's script contradicts it; through the real ``mteval`` entry point."""
from __future__ import annotations

import json
import sys

import pytest

from mteval.data.languages import check_direction
from mteval.types import Corpus, Direction, Segment
from mteval.validate import SettingError

ZH = "我们提出了一个新的数据集。\n模型翻译摘要。\n"
EN = "We present a new data set.\nThe model translates abstracts.\n"


def run(tmp_path, monkeypatch, capsys, *overrides: str) -> tuple[int, str, dict]:
    """``mteval`` in this process with a copy system: (exit status, stderr, scores.json or {})."""
    from mteval.commands.main import main

    monkeypatch.setattr(sys, "argv", ["mteval", *overrides, "system=copy", "metrics=[bleu]", "cache=null",
                                      f"hydra.run.dir={tmp_path / 'run'}", f"leaderboard={tmp_path / 'lb.csv'}"])
    monkeypatch.setenv("HYDRA_FULL_ERROR", "0")
    code = 0
    try:
        main()
    except SystemExit as done:
        code = done.code or 0
    scores = tmp_path / "run" / "scores.json"
    return code, capsys.readouterr().err, json.loads(scores.read_text()) if scores.is_file() else {}


def files(tmp_path, src: str, ref: str) -> list[str]:
    (tmp_path / "src.txt").write_text(src, encoding="utf-8")
    (tmp_path / "ref.txt").write_text(ref, encoding="utf-8")
    return ["dataset=files", f"dataset.load.src={tmp_path / 'src.txt'}", f"dataset.load.refs=[{tmp_path / 'ref.txt'}]"]


def test_files_follow_dataset_direction_zh_en_and_score_english_with_13a(tmp_path, monkeypatch, capsys):
    code, err, scores = run(tmp_path, monkeypatch, capsys, *files(tmp_path, ZH, EN), "dataset.direction=zh-en")
    assert code == 0, err
    assert scores["direction"] == "zh-en"
    assert "|tok:13a|" in scores["metrics"]["bleu"]["signature"]


def test_files_in_the_default_direction_score_chinese_with_tok_zh(tmp_path, monkeypatch, capsys):
    code, err, scores = run(tmp_path, monkeypatch, capsys, *files(tmp_path, EN, ZH))
    assert code == 0, err
    assert scores["direction"] == "en-zh" and "|tok:zh|" in scores["metrics"]["bleu"]["signature"]


@pytest.mark.parametrize(("src", "ref", "direction", "expect"), [
    (EN, EN, "zh-en", r"dataset\.direction=zh-en says the sources are Chinese \(CJK script\), but 2 of 2 source lines"),
    (ZH, EN, "en-zh", r"dataset\.direction=en-zh says the sources are English \(Latin script\), but 2 of 2 source lines"
                      r" of dataset files are not: set dataset\.direction=zh-en"),
    (EN, EN, "en-zh", r"says the references are Chinese \(CJK script\), but 2 of 2 reference lines"),
])
def test_files_whose_script_contradicts_the_direction_are_refused(tmp_path, monkeypatch, capsys, src, ref, direction,
                                                                  expect):
    code, err, scores = run(tmp_path, monkeypatch, capsys, *files(tmp_path, src, ref), f"dataset.direction={direction}")
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and not scores
    assert len(lines) == 1 and lines[0].startswith("mteval: error: "), err
    assert __import__("re").search(expect, lines[0]), lines[0]


def test_jsonl_follows_dataset_direction(tmp_path, monkeypatch, capsys):
    rows = [{"src": s, "ref": r} for s, r in zip(ZH.splitlines(), EN.splitlines(), strict=True)]
    (tmp_path / "c.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    code, err, scores = run(tmp_path, monkeypatch, capsys, "dataset=jsonl", f"dataset.load.path={tmp_path / 'c.jsonl'}",
                            "dataset.direction=zh-en")
    assert code == 0, err
    assert scores["direction"] == "zh-en" and "|tok:13a|" in scores["metrics"]["bleu"]["signature"]


def test_a_test_set_in_the_other_direction_than_declared_is_refused(wmt22, tmp_path, monkeypatch, capsys):
    """sacrebleu test sets are chosen by langpair: a direction that disagrees is refused, not ignored."""
    code, err, _ = run(tmp_path, monkeypatch, capsys, "dataset=wmt22_en_zh", "dataset.direction=zh-en",
                       "dataset.load.limit=3")
    assert code == 2
    assert "dataset.direction=zh-en, but dataset wmt22_en_zh is en-zh: set dataset.direction=en-zh" in err


def test_direction_parses_once_into_two_languages():
    assert Direction.parse("zh-en") == Direction("zh", "en") and str(Direction("en", "zh")) == "en-zh"
    for bad in ("en", "en-", "-zh", "en-zh-tw", None):
        with pytest.raises(SettingError, match="is not a direction"):
            Direction.parse(bad)


def test_mixed_text_is_judged_by_its_majority():
    """Chinese sources keep Latin names and acronyms: a minority of Latin lines is not a contradiction."""
    segs = [Segment(id=str(i), src=s, refs=["A reference."]) for i, s in
            enumerate(["我们用 BERT 模型。", "本文提出了新方法。", "Transformer"])]
    check_direction(Corpus(name="m", src_lang="zh", tgt_lang="en", segments=segs), Direction("zh", "en"))
