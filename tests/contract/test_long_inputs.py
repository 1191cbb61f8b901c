"""The pipeline keeps each segment's sentence pairs (through the cache), scores over-long segments by them,
reports what it did, and skips a reference-based metric with nothing to score without demanding its model."""
from __future__ import annotations

import logging
import re

import pytest

from mteval.cache import Cache
from mteval.metrics.comet import Comet
from mteval.metrics.metricx import MetricX
from mteval.pipeline import evaluate
from mteval.systems.base import SentenceBatchedSystem
from mteval.types import Corpus, Segment

LONG = ("The first sentence is here. A second one follows it. And a third closes the abstract. "
        "A fourth adds a detail. The fifth one ends it.")


class Bracket(SentenceBatchedSystem):
    """A model-free sentence-by-sentence system: each sentence comes back in brackets."""

    def __init__(self):
        super().__init__(name="bracket", batch_size=4, max_tokens=None, max_input_tokens=200, split_sentences=True)
        self.calls = 0

    def _translate_batch(self, sentences, *, src_lang, tgt_lang):
        self.calls += 1
        return [f"【{s}】" for s in sentences]

    def count_tokens(self, texts):
        return [len(t.split()) for t in texts]


def _corpus() -> Corpus:
    segs = [Segment(id="long", src=LONG, origin="pages.txt:3"), Segment(id="short", src="Short.", origin="pages.txt:4")]
    return Corpus(name="t", src_lang="en", tgt_lang="zh", segments=segs)


def test_long_segments_are_scored_by_sentences_through_the_cache(tiny_models, tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    metricx = MetricX(model=str(tiny_models["metricx"]), tokenizer=str(tiny_models["mt5_tokenizer"]),
                      name="metricx_qe", reference_free=True, max_input_tokens=64)
    # A reference-based COMET whose model is nowhere: with no reference in the corpus it is skipped,
    # and neither its preflight nor the offline check may ask for it.
    comet = Comet(model="Unbabel/not-in-any-cache", name="comet")
    with Cache(tmp_path / "cache.sqlite") as cache, caplog.at_level(logging.WARNING):
        system = Bracket()
        first = evaluate(_corpus(), system, [comet, metricx], cache=cache)
        again_system = Bracket()
        again = evaluate(_corpus(), again_system, [comet, metricx], cache=cache)
    assert first.provenance["skipped_metrics"] == ["comet"]
    assert "comet: skipped, no segment has a reference" in caplog.text
    assert "pages.txt:3: the metricx_qe input is longer than the 64 tokens it reads; scored by its sentence pairs" \
        in caplog.text

    pairs = first.sentence_pairs[0]
    assert len(pairs) == 5 and pairs[0] == ("The first sentence is here.", "【The first sentence is here.】")
    assert first.sentence_pairs[1] is None  # one sentence: nothing to keep
    row = first.segment_rows()[0]
    assert row["sentences"] == [list(p) for p in pairs]
    info = first.metrics["metricx_qe"].extra["long_inputs"]
    assert (info["over_limit"], info["by_sentences"], info["truncated"]) == (1, 1, 0)
    assert first.provenance["long_inputs"]["metricx_qe"]["by_sentences_at"] == [0]

    assert caplog.text.count("pages.txt:3: the metricx_qe input is longer") == 2  # warned again from the cache
    assert again_system.calls == 0  # all from the cache, pairs included
    assert again.sentence_pairs == first.sentence_pairs
    assert again.metrics["metricx_qe"].segment_scores == pytest.approx(first.metrics["metricx_qe"].segment_scores)


def test_without_pairs_an_over_long_segment_is_cut_counted_and_warned(tiny_models, monkeypatch, caplog):
    from mteval.systems.copy import CopySystem

    metricx = MetricX(model=str(tiny_models["metricx"]), tokenizer=str(tiny_models["mt5_tokenizer"]),
                      name="metricx_qe", reference_free=True, max_input_tokens=64)
    with caplog.at_level(logging.WARNING):
        result = evaluate(_corpus(), CopySystem(), [metricx])
    assert "pages.txt:3: the metricx_qe input is longer than the 64 tokens it reads; the rest is not scored" \
        in caplog.text
    info = result.metrics["metricx_qe"].extra["long_inputs"]
    assert (info["over_limit"], info["truncated"], info["truncated_at"]) == (1, 1, [0])
    assert result.scores_dict()["metrics"]["metricx_qe"]["long_inputs"]["truncated"] == 1
    from mteval.report.table import scores_table

    assert ("metricx_qe: 1 segment(s) longer than the 64 tokens its model reads: 0 scored by sentence pairs, "
            "1 cut (unscored rest)") in scores_table(result)


def _uneven_line() -> str:
    """Prose then base64 on one line with no sentence mark, about 10 KB (issue 23, defect 6: such a line
    gave an 885-token piece for a 512-position Marian). Its tokens per character differ by half:
    cut at the line's average rate, the base64 half comes out far over the limit."""
    import base64
    import random

    rng = random.Random(7)
    words = "the model translates long scientific abstracts into chinese and the results show gains".split()
    prose = " ".join(rng.choice(words) for _ in range(1000))
    return prose + " " + base64.b64encode(rng.randbytes(2400)).decode()


class Uneven(Bracket):
    """Counts a word as one token and each character of a word over 20 characters as one (base64 reads so)."""

    def count_tokens(self, texts):
        return [sum(len(w) if len(w) > 20 else 1 for w in t.split()) + 1 for t in texts]  # + EOS


def test_pieces_are_measured_again_until_they_fit(caplog):
    system = Uneven()
    system.max_input_tokens = 64
    line = _uneven_line()
    with caplog.at_level(logging.WARNING):
        pieces = system.segment(line, "en")
    assert "".join(pieces) == line  # nothing lost, duplicated or reordered
    assert max(system.count_tokens(pieces)) <= 64
    assert system.counters["sentences_split_further"] == 1
    assert re.search(r"a sentence of \d+ tokens exceeds max_input_tokens=64; split into \d+ pieces, each measured "
                     r"again with the tokenizer \(\d+ rounds of cutting\)", caplog.text)


def test_a_limit_below_one_character_is_a_config_error():
    from mteval.errors import ConfigError

    system = Uneven()
    system.max_input_tokens = 1  # every piece has an EOS too: nothing fits
    with pytest.raises(ConfigError, match=r"bracket: max_input_tokens=1 is less than one character takes"):
        system.segment("some words here", "en")


SEQ2SEQ = {  # tiny model -> (lang_codes, target_token), as in their conf/system YAMLs
    "marian": (None, ">>cmn_Hans<<"),
    "nllb": ({"en": "eng_Latn", "zh": "zho_Hans"}, None),
    "m2m100": ({"en": "en", "zh": "zh"}, None),
}


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["hf", "ctranslate2"])
@pytest.mark.parametrize("family", sorted(SEQ2SEQ))
def test_an_uneven_line_is_translated_by_every_seq2seq_backend(tiny_models, tmp_path_factory, family, backend):
    """With 512 positions the tiny Marian raised IndexError on the old 720-token piece: the run was lost."""
    codes, token = SEQ2SEQ[family]
    kw = dict(name=family, model=str(tiny_models[family]), lang_codes=codes, target_token=token, num_beams=1,
              max_new_tokens=2, batch_size=8, max_tokens=None, max_input_tokens=512, split_sentences=True,
              device="cpu")
    if backend == "hf":
        from mteval.systems.hf_seq2seq import HFSeq2Seq

        system = HFSeq2Seq(**kw, dtype="float32")
    else:
        from mteval.systems.ctranslate2 import CT2Seq2Seq

        converted = tmp_path_factory.getbasetemp() / "ct2" / family  # shared with test_ctranslate2
        system = CT2Seq2Seq(**kw, compute_type="float32", converted_dir=str(converted))
    line = _uneven_line()
    assert system.count_tokens([line])[0] > 6 * 512  # far over: needs cutting, and the average misleads
    out = system.translate([line, "Short one."], src_lang="en", tgt_lang="zh")
    assert len(out) == 2 and out.counters["sentences_split_further"] == 1
    pieces = [p for p, _ in out.sentence_pairs[0]]
    assert "".join(pieces) == line and max(system.count_tokens(pieces)) <= 512
