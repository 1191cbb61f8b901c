"""XCOMET without a model: error spans cleaned, moved onto segments, counted and checked; offline and gated-model
messages; prefetch; escaping in the report (the model: tests/contract/test_xcomet_model.py)."""
from __future__ import annotations

import pytest

from mteval.errors import InputError, ModelUnavailableError
from mteval.metrics.xcomet import XComet
from mteval.metrics.spans import check_spans, clean_spans, merge_units, severity_counts


# -- spans: table-driven, no model -------------------------------------------------------------------

@pytest.mark.parametrize(("hyp", "raw", "want"), [
    # comet's text is detokenised ("<s> 你", ASCII comma); ours is the hypothesis's own characters.
    ("你好世界，这是", [{"text": "<s> 你", "start": 0, "end": 1, "severity": "major", "confidence": 0.51234}],
     [{"text": "你", "start": 0, "end": 1, "severity": "major", "confidence": 0.5123}]),
    ("你好世界，这是", [{"text": "世界,这", "start": 2, "end": 6, "severity": "minor", "confidence": 0.4}],
     [{"text": "世界，这", "start": 2, "end": 6, "severity": "minor", "confidence": 0.4}]),
    ("abc", [{"text": "x", "start": 2, "end": 9, "severity": "critical", "confidence": 1}],  # clipped to the text
     [{"text": "c", "start": 2, "end": 3, "severity": "critical", "confidence": 1.0}]),
])
def test_clean_spans_take_the_hypothesis_characters(hyp, raw, want):
    assert clean_spans(hyp, raw) == want


def test_sentence_unit_spans_move_onto_their_segment():
    seg = "第一句。第二句。"
    units = ["第一句。", "第二句。"]
    unit_spans = [[{"text": "一", "start": 1, "end": 2, "severity": "minor", "confidence": 0.5}],
                  [{"text": "二句", "start": 1, "end": 3, "severity": "major", "confidence": 0.6}]]
    merged = merge_units(unit_spans, units, [0, 0], [seg])
    assert [(s["start"], s["end"], seg[s["start"]:s["end"]]) for s in merged[0]] == [(1, 2, "一"), (5, 7, "二句")]


def test_severity_counts():
    spans = [[{"severity": "minor"}, {"severity": "critical"}], [], None, [{"severity": "minor"}]]
    assert severity_counts(spans) == {"minor": 2, "major": 0, "critical": 1, "segments_with_errors": 2}


@pytest.mark.parametrize("bad", [
    "spans", [{"start": 0, "end": 9, "severity": "minor"}], [{"start": 2, "end": 1, "severity": "minor"}],
    [{"start": 0, "end": 1, "severity": "fatal"}], [{"start": "0", "end": 1, "severity": "minor"}],
])
def test_stored_spans_outside_the_hypothesis_are_refused(bad):
    with pytest.raises(InputError, match="xcomet_error_spans"):
        check_spans(bad, "四个字符", "xcomet_error_spans", "segments.jsonl", 3)


# -- the tiny checkpoint -------------------------------------------------------------------------------


def test_uncached_xxl_offline_names_the_fix():
    with pytest.raises(ModelUnavailableError, match="Unbabel/XCOMET-XXL.*make models"):
        XComet(model="Unbabel/XCOMET-XXL", name="xcomet").preflight()


def test_gated_model_names_hf_token(monkeypatch):
    import huggingface_hub

    def gated(**_):
        raise huggingface_hub.errors.GatedRepoError("401 Client Error: Cannot access gated repo Unbabel/XCOMET-XL")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", gated)
    with pytest.raises(ModelUnavailableError, match=r"gated.*huggingface.co/Unbabel/XCOMET-XL.*HF_TOKEN"):
        XComet(model="Unbabel/XCOMET-XL", name="xcomet").preflight()


def test_prefetch_knows_xcomet_and_its_encoder(compose, tmp_path):
    from mteval.commands.prefetch import comet_dependencies, models_in_config

    refs = models_in_config(compose("metrics=[xcomet,xcomet_qe]", "system=copy"))
    assert {(r.repo_id, r.role, r.named_by) for r in refs} == {("Unbabel/XCOMET-XL", "comet", "metrics.xcomet"),
                                                               ("Unbabel/XCOMET-XL", "comet", "metrics.xcomet_qe")}
    # The checkpoint's hparams.yaml names the encoder whose config and tokenizer comet loads.
    (tmp_path / "hparams.yaml").write_text("class_identifier: xcomet_metric\npretrained_model: facebook/xlm-roberta-xl\n")
    assert comet_dependencies(tmp_path) == [("facebook/xlm-roberta-xl", "config.json")]


# -- end to end: the command, compare, report and gate -----------------------------------------


def test_spans_in_the_report_are_escaped():
    from mteval.report.spans import marked

    text = "<b>a</b> & <script>x</script>"
    html = marked(text, [{"start": 0, "end": 8, "severity": "critical", "confidence": 0.9},
                         {"start": 11, "end": 19, "severity": "bogus", "confidence": 0.1}])
    assert html == ("<mark class='critical' title='critical, confidence 0.90'>&lt;b&gt;a&lt;/b&gt;</mark> &amp; "
                    "<mark class='minor' title='minor, confidence 0.10'>&lt;script&gt;</mark>x&lt;/script&gt;")
