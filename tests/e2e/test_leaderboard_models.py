"""A run scored with XCOMET (tiny model) and the LLM judge (scripted backend) has both on the leaderboard,
each with its score and a signature hash (issue 18: a fixed column list left them empty)."""
from __future__ import annotations

import csv

import pytest

from mteval.metrics.xcomet import XComet
from mteval.pipeline import evaluate
from mteval.results.leaderboard import append_leaderboard
from mteval.systems.copy import CopySystem
from mteval.types import Corpus, Segment
from tests.unit.metrics.test_llm_judge import answer, judge_model, make_judge  # noqa: F401 - fixtures

SRCS = ["The meeting was moved to next week.", "Prices rose sharply in May."]
REFS = ["会议推迟到下周。", "五月价格大幅上涨。"]


@pytest.mark.slow
def test_xcomet_and_the_judge_get_leaderboard_columns_with_signatures(tiny_models, make_judge, tmp_path):
    corpus = Corpus("toy", "en", "zh", [Segment(str(i), s, [r]) for i, (s, r) in enumerate(zip(SRCS, REFS))])
    judge = make_judge({s: (answer(score=90), answer(score=90)) for s in SRCS})  # copy: hypotheses are sources
    xcomet = XComet(model=str(tiny_models["xcomet"]), device="cpu", name="xcomet")
    result = evaluate(corpus, CopySystem(), [xcomet, judge])
    assert set(result.metrics) == {"xcomet", "llm_judge"}
    board = tmp_path / "leaderboard.csv"
    assert append_leaderboard(board, result, tmp_path / "run", when="2026-12-05T00:00:00")
    (row,) = list(csv.DictReader(board.open(encoding="utf-8")))
    for name in ("xcomet", "llm_judge"):
        assert row[name] == str(round(result.metrics[name].score, 4))
        assert len(row[f"{name}_sig"]) == 12
    assert row["sig"]
