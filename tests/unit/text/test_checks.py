"""Per-segment output checks: a table of tiny segments with the checks each must (and must not) fail."""
from __future__ import annotations

import pytest

from mteval.text.checks import CHECKS, check_run, check_segment, expected_lengths, traditional_chars

SRC = "We present a new dataset for machine translation."
REF = "我们提出了一个新的机器翻译数据集。"

CASES = [
    # (id, src, hyp, refs, tgt, expected_len, failing checks)
    ("clean", SRC, "我们为机器翻译提出了一个新数据集。", [REF], "zh", 17, set()),
    ("empty", SRC, "   ", [REF], "zh", 17, {"empty"}),
    ("empty source, empty output", "", "", [""], "zh", None, set()),
    ("copied source", SRC, "We present a  new dataset for machine translation.", [REF], "zh", 17,
     {"copy", "off_target", "length"}),
    ("copy where the reference copies too", "iPhone 13 Pro", "iPhone 13 Pro", ["iPhone 13 Pro"], "zh", 11, set()),
    ("English output", SRC, "We show a new data set for MT.", [REF], "zh", 17, {"off_target"}),
    ("names in Chinese are fine", "Apple and Google met.", "Apple 和 Google 的高管会面了。", ["苹果和谷歌高管会面。"], "zh",
     10, set()),
    ("Latin-heavy reference: not off-target", "#PRS_ORG# login", "#PRS_ORG# login", ["#PRS_ORG# 登录"], "zh", 13,
     {"copy"}),
    ("traditional", "Nice to meet you.", "很高興認識你。", ["很高兴认识你。"], "zh", 7, {"traditional"}),
    ("traditional also in the reference", "Taiwan", "臺灣的朋友", ["臺灣的朋友"], "zh", 5, set()),
    ("ascii comma in Chinese", SRC, "我们提出了一个新的数据集,用于机器翻译.", [REF], "zh", 17, {"punct_width"}),
    ("ascii parentheses around a name are fine", "Dave Stoufer said", "戴夫·斯托弗(Dave Stoufer)说。",
     ["戴夫·斯托弗 (Dave Stoufer) 说。"], "zh", 21, set()),
    ("reference writes ascii too", SRC, "我们提出了一个新的数据集,用于机器翻译", ["我们提出了一个数据集,用于翻译"], "zh", 15, set()),
    ("full-width in English", "我们提出了新数据集。", "We present a new dataset，for MT！", ["We present a new dataset."],
     "en", 21, {"punct_width"}),
    ("too short", SRC, "我们提出。", [REF], "zh", 17, {"length"}),
    ("too long", "Thanks.", "非常感谢您的来信，我们会尽快处理您的问题并回复您，祝您生活愉快。", ["谢谢。"], "zh", 3, {"length"}),
    ("short segments never fail length", "Hi", "你好啊朋友", ["嗨"], "zh", 1, set()),
    ("Chinese in an English target", "我们提出了新数据集。", "我们提出了新数据集。", ["We present a new dataset."], "en", 21,
     {"copy", "off_target", "length"}),
]


@pytest.mark.parametrize(("src", "hyp", "refs", "tgt", "expected_len", "failing"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_check_segment(src, hyp, refs, tgt, expected_len, failing):
    flags = check_segment(src, hyp, refs, tgt_lang=tgt, expected_len=expected_len)
    assert set(flags) == failing
    assert set(flags) <= set(CHECKS)
    assert all(isinstance(v, str) and v for v in flags.values())


def test_traditional_chars_are_reported_once_and_only_in_context():
    assert traditional_chars("很高興認識你，很高興。") == "興認識"
    assert traditional_chars("我们提出了一个新的数据集。") == ""
    # 乾 is rewritten on its own (乾燥 -> 干燥) but kept in the name 乾隆: zhconv decides in context.
    assert traditional_chars("乾隆皇帝") == ""
    assert traditional_chars("衣服很乾") == "乾"


def test_expected_lengths_use_references_else_the_typical_ratio():
    srcs = ["a" * 20, "b" * 40, "c" * 10]
    refs = [["x" * 10], ["y" * 20, "z" * 30], []]
    # Mean reference length; without one, source length x median(ref/src) = 10 x median(0.5, 0.625).
    assert expected_lengths(srcs, refs) == [10, 25, pytest.approx(10 * 0.5625)]
    assert expected_lengths(["abc"], [[]]) == [None]


def test_check_run_flags_one_dict_per_segment():
    flags = check_run([SRC, SRC], ["", "我们提出了一个新的机器翻译数据集。"], [[REF], [REF]], tgt_lang="zh")
    assert flags == [{"empty": "empty output"}, {}]
