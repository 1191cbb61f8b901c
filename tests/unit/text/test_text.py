"""Sentence splitting, script detection and punctuation normalisation: tables of known cases."""
from __future__ import annotations

import pytest

from mteval.text.normalize import fullwidth_share, normalize_punct, to_halfwidth
from mteval.text.script import detect_lang
from mteval.text.sentences import join_sentences, split_en, split_long, split_zh


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("We study MT. It works.", ["We study MT.", "It works."]),
        ("See Fig. 3 for details. Results follow.", ["See Fig. 3 for details.", "Results follow."]),
        ("This holds, e.g. for BLEU. Next.", ["This holds, e.g. for BLEU.", "Next."]),
        ("Smith et al. Showed it. Yes.", ["Smith et al. Showed it.", "Yes."]),
        ("Accuracy is 3.5 points. Better?  Yes!", ["Accuracy is 3.5 points.", "Better?", "Yes!"]),
        ("J. Smith wrote it. Done.", ["J. Smith wrote it.", "Done."]),
        ("No final period", ["No final period"]),
        # Initialisms and titles the old hand-written rules split after (WMT22 en-zh lines 1242, 87, 334).
        ("The official added that U.S. Special Envoy Robert Malley was heading back.",
         ["The official added that U.S. Special Envoy Robert Malley was heading back."]),
        ("It was reported by Sgt. Darren Moss. It streams on Jan. 24th.",
         ["It was reported by Sgt. Darren Moss.", "It streams on Jan. 24th."]),
        # A closing quote stays with its sentence; a list label stays with its item.
        ('He said "we are done." Then he left.', ['He said "we are done."', "Then he left."]),
        ("Q. When will it arrive? A. In 7 days.", ["Q. When will it arrive?", "A. In 7 days."]),
        ("", []),
    ],
)
def test_split_en(text, expected):
    assert split_en(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我们提出一种方法。结果很好。", ["我们提出一种方法。", "结果很好。"]),
        ("这是真的吗?是的。", ["这是真的吗?", "是的。"]),
        ("他说:“好。”然后走了。", ["他说:“好。”", "然后走了。"]),
        ("版本 v1.2 更好。", ["版本 v1.2 更好。"]),
        # A closing quote after a space is not a sentence of its own (WMT22 zh-en, 28 lines).
        ("“我们会通知申请者 。 ”他说。", ["“我们会通知申请者 。 ”", "他说。"]),
        ("1.本店合作快递公司。", ["1.本店合作快递公司。"]),
    ],
)
def test_split_zh(text, expected):
    assert split_zh(text) == expected


def test_join_sentences():
    assert join_sentences(["第一句。", "第二句。"], "zh") == "第一句。第二句。"
    assert join_sentences(["One.", "Two."], "en") == "One. Two."


def test_split_long_keeps_every_character():
    text = "一个很长的句子，包含很多从句，而且没有句号" * 5
    pieces = split_long(text, 20)
    assert "".join(pieces) == text and all(len(p) <= 20 for p in pieces)


@pytest.mark.parametrize(
    ("text", "lang"),
    [("Large language models are useful.", "en"), ("大型语言模型很有用。", "zh"),
     ("我们提出了 BLOOM, 一个 176B 参数的 LLM 模型。", "zh"), ("1234 !!", "und")],
)
def test_detect_lang(text, lang):
    assert detect_lang(text) == lang


def test_halfwidth_normalisation():
    assert to_halfwidth("你好，世界：（测试）？！") == "你好,世界:(测试)?!"
    assert to_halfwidth("第一。第二、第三") == "第一。第二、第三"  # no ASCII twin: kept
    assert to_halfwidth("ＡＢＣ１２３\u3000x") == "ABC123 x"
    assert normalize_punct("，", "none") == "，"
    with pytest.raises(ValueError, match="unknown punctuation normalisation"):
        normalize_punct("x", "fullwidth-ish")


def test_fullwidth_share():
    assert fullwidth_share("你好，世界,") == pytest.approx(0.5)
    assert fullwidth_share("没有标点") == 0.0
