"""The one Signature class: sacrebleu's own signatures byte for byte, a fixed key order, one way to name a model."""
from __future__ import annotations

import pytest
from sacrebleu.metrics import BLEU as SacreBLEU
from sacrebleu.metrics import CHRF, TER as SacreTER

from mteval.metrics.sacre import BLEU, TER, ChrF
from mteval.signature import KEYS, Signature, model_ref, reference_fields

HYPS, REFS = ["模型翻译摘要。", "你好，世界。"], [["模型翻译了摘要。"], ["你好，世界！"]]


@pytest.mark.parametrize(("ours", "theirs"), [
    (BLEU(zh_punct="none"), SacreBLEU(tokenize="zh")),
    (ChrF(zh_punct="none"), CHRF()),
    (TER(zh_punct="none"), SacreTER(normalized=True, asian_support=True)),
])
def test_sacrebleu_signatures_stay_byte_identical(ours, theirs):
    theirs.corpus_score(HYPS, [[r[0] for r in REFS]])
    expected = str(theirs.get_signature())
    assert ours.score(HYPS, REFS, tgt_lang="zh").signature == expected
    assert str(Signature.parse(expected)) == expected  # read back and printed again: the same bytes


def test_punctuation_mapping_follows_sacrebleus_own_keys():
    sig = BLEU(zh_punct="halfwidth").score(HYPS, REFS, tgt_lang="zh").signature
    sacre = SacreBLEU(tokenize="zh")
    sacre.corpus_score(HYPS, [[r[0] for r in REFS]])
    assert sig == f"{sacre.get_signature()}|zhpunct:halfwidth"
    assert Signature.parse(sig)["tok"] == "zh" and Signature.parse(sig)["zhpunct"] == "halfwidth"


def test_keys_print_in_one_fixed_order_whatever_order_they_are_given_in():
    a = Signature.of(device="cpu", comet="2.2.7", model="m@hub:0123456789ab", batch_size=8, reference_free=True)
    b = Signature.of(reference_free=True, batch_size=8, model="m@hub:0123456789ab", comet="2.2.7", device="cpu")
    assert str(a) == str(b) == "model:m@hub:0123456789ab|qe:yes|bs:8|device:cpu|comet:2.2.7"
    assert list(KEYS)[0] == "model"  # the model first, versions last
    assert Signature.of(dtype=None, device="cuda") == Signature.parse("device:cuda")  # None leaves a key out


def test_an_unknown_key_is_a_programming_error_not_a_silent_new_format():
    with pytest.raises(KeyError, match="not signature keys: gpus"):
        Signature.of(gpus=1)


def test_one_way_to_name_a_model():
    assert model_ref("Unbabel/wmt22-comet-da", "hub:" + "a" * 40) == "Unbabel/wmt22-comet-da@hub:aaaaaaaaaaaa"
    assert model_ref("/models/mine", "sha256:" + "0f" * 32) == "/models/mine@sha256:0f0f0f0f0f0f"


def test_references_read_alike_for_every_neural_metric():
    assert str(Signature.of(**reference_fields(1, "mean", qe=False))) == "nrefs:1|multiref:none"
    assert str(Signature.of(**reference_fields(2, "mean", qe=False))) == "nrefs:2|multiref:mean"
    assert str(Signature.of(**reference_fields(2, "mean", qe=True))) == "qe:yes"
