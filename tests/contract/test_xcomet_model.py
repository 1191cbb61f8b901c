"""XCOMET on a tiny XCOMETMetric checkpoint: the class and keys of XCOMET-XL, scores as comet's, spans that fit
their hypotheses, through long inputs and the metric cache."""
from __future__ import annotations

import pytest
import yaml

from mteval.errors import ConfigError
from mteval.metrics.xcomet import XComet
from mteval.testing.tiny_xcomet import XCOMET_XL_HPARAMS

SRCS = ["The model translates abstracts.", "We propose a new method for evaluation.", "Results improve a lot."]
HYPS = ["模型翻译摘要。", "我们提出了一种新的评估方法。", "结果大大改善。"]
REFS = [["模型翻译了摘要。"], ["我们提出一种新的评价方法。"], ["结果改善很多。"]]


def _xcomet(tiny_models, **kw) -> XComet:
    return XComet(model=str(tiny_models["xcomet"]), device="cpu", name="xcomet", **kw)


@pytest.mark.slow
def test_tiny_checkpoint_has_the_keys_and_class_of_xcomet_xl(tiny_models):
    hparams = yaml.safe_load((tiny_models["xcomet"] / "hparams.yaml").read_text())
    assert sorted(hparams) == sorted(XCOMET_XL_HPARAMS)
    assert (hparams["class_identifier"], hparams["encoder_model"]) == ("xcomet_metric", "XLM-RoBERTa-XL")
    assert hparams["error_labels"] == ["minor", "major", "critical"]


@pytest.mark.slow
@pytest.mark.parametrize("reference_free", [False, True])
def test_scores_are_comets_and_spans_fit_the_hypotheses(tiny_models, reference_free):
    """The corpus score is the mean of comet's own segment scores; every segment has its spans,
    whose text is the hypothesis between their offsets; scores.json counts them per severity."""
    from mteval.metrics.comet import load_checkpoint

    metric = _xcomet(tiny_models, reference_free=reference_free)
    result = metric.score(HYPS, REFS, SRCS)
    model = load_checkpoint(tiny_models["xcomet"] / "checkpoints" / "model.ckpt", local_files_only=True)
    samples = [{"src": s, "mt": h} | ({} if reference_free else {"ref": r[0]}) for s, h, r in zip(SRCS, HYPS, REFS)]
    direct = model.predict(samples, batch_size=8, gpus=0, accelerator="cpu", num_workers=0, progress_bar=False)
    assert result.segment_scores == pytest.approx([float(x) for x in direct.scores], abs=1e-6)
    spans = result.segment_extra["error_spans"]
    assert [[(s["start"], s["end"], s["severity"]) for s in seg] for seg in spans] == \
        [[(s["start"], s["end"], s["severity"]) for s in seg] for seg in direct.metadata.error_spans]
    assert any(spans), "the tiny model marks no span: the test would prove nothing"
    for hyp, seg in zip(HYPS, spans, strict=True):
        for s in seg:
            assert s["text"] == hyp[s["start"]:s["end"]]
    counts = result.extra["error_spans"]
    assert sum(counts[k] for k in ("minor", "major", "critical")) == sum(len(seg) for seg in spans)
    assert ("qe" in result.signature) == reference_free and "model:" in result.signature
    assert result.higher_is_better is True


@pytest.mark.slow
def test_an_over_long_qe_segment_keeps_its_sentences_spans_in_place(tiny_models):
    """QE scores an over-long segment by its sentence pairs; their spans move onto the joined hypothesis."""
    pairs = [(s, h) for s, h in zip(SRCS * 12, HYPS * 12, strict=True)]
    src, hyp = " ".join(s for s, _ in pairs), "".join(h for _, h in pairs)
    metric = _xcomet(tiny_models, reference_free=True)
    result = metric.score([hyp, HYPS[0]], [[], []], [src, SRCS[0]], pairs=[pairs, None])
    assert result.extra["long_inputs"]["by_sentences"] == 1
    by_sentence = _xcomet(tiny_models, reference_free=True).score(HYPS, [[], [], []], SRCS)
    want = [s["text"] for s in by_sentence.segment_extra["error_spans"][0]]
    spans = result.segment_extra["error_spans"][0]
    assert len(spans) == 12 * sum(len(seg) for seg in by_sentence.segment_extra["error_spans"])
    assert [s["text"] for s in spans][:len(want)] == want
    assert all(s["text"] == hyp[s["start"]:s["end"]] for s in spans)
    assert result.extra["error_spans"]["segments_with_errors"] == sum(1 for seg in result.segment_extra["error_spans"]
                                                                     if seg)


@pytest.mark.slow
def test_spans_survive_the_metric_cache(tiny_models, tmp_path):
    from mteval.cache import Cache
    from mteval.metrics.cached import CachedMetric
    from mteval.pipeline import score
    from mteval.types import Corpus, Segment

    corpus = Corpus("t", "en", "zh", [Segment(str(i), s, r) for i, (s, r) in enumerate(zip(SRCS, REFS))])
    cache = Cache(tmp_path / "cache.sqlite")
    fresh = score(CachedMetric(_xcomet(tiny_models), cache), corpus, HYPS)
    hit = score(CachedMetric(_xcomet(tiny_models), cache), corpus, HYPS)
    assert hit.segment_extra == fresh.segment_extra and hit.extra["error_spans"] == fresh.extra["error_spans"]


@pytest.mark.slow
def test_a_checkpoint_without_spans_is_refused_before_loading(tiny_models):
    with pytest.raises(ConfigError, match=r"metrics.xcomet.model=.*regression_metric.*xcomet_metric"):
        XComet(model=str(tiny_models["comet"]), name="xcomet").preflight()
