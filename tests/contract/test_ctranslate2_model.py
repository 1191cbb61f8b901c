"""The CTranslate2 backend on the tiny models: the same output as the HF backend, conversion cached, parallel
batches in order, an out-of-memory batch retried alone."""
from __future__ import annotations

import pytest

from mteval.systems import ctranslate2 as ct2
from mteval.systems.ctranslate2 import CT2Seq2Seq
from tests.helpers import ct2_system

pytestmark = pytest.mark.filterwarnings("ignore:Recommended. pip install sacremoses")

SOURCES = [
    "Large language models can translate scientific abstracts.",
    "We present a new dataset. It has two parts.",
    "Model scale",
    "The results show that the method improves translation quality on all benchmarks.",
    "",
]

FAMILIES = {  # tiny model -> (lang_codes, target_token), as in their conf/system YAMLs
    "marian": (None, ">>cmn_Hans<<"),
    "nllb": ({"en": "eng_Latn", "zh": "zho_Hans"}, None),
    "m2m100": ({"en": "en", "zh": "zh"}, None),
}


@pytest.mark.slow
@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.parametrize("num_beams", [1, 4])
def test_same_output_as_the_hf_backend(tiny_models, tmp_path_factory, family, num_beams):
    from mteval.systems.hf_seq2seq import HFSeq2Seq

    codes, token = FAMILIES[family]
    kw = dict(name=family, model=str(tiny_models[family]), lang_codes=codes, target_token=token,
              num_beams=num_beams, max_new_tokens=12, batch_size=2, max_tokens=None, max_input_tokens=512,
              split_sentences=True, device="cpu")
    hf = HFSeq2Seq(**kw, dtype="float32")
    expected = hf.translate(SOURCES, src_lang="en", tgt_lang="zh").hyps
    converted = tmp_path_factory.getbasetemp() / "ct2" / family  # converted once per family
    system = CT2Seq2Seq(**kw, compute_type="float32", converted_dir=str(converted))
    got = system.translate(SOURCES, src_lang="en", tgt_lang="zh").hyps
    assert got == expected
    assert system.counters["outputs_length_capped"] == hf.counters["outputs_length_capped"] > 0  # random weights rarely stop: both count it
    assert got[-1] == "" and all(got[:-1])
    assert not any(code in t for t in got for code in ("zho_Hans", "__zh__", "<pad>", "</s>"))


@pytest.mark.slow
def test_conversion_is_cached_and_reused(tiny_models, tmp_path, monkeypatch):
    monkeypatch.setattr(ct2, "CACHE_DIR", tmp_path / "cache")
    system = ct2_system(str(tiny_models["marian"]))
    path = system.convert()
    assert (path / ct2.MARKER).is_file() and (path / "model.bin").is_file()
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [path.name]  # no scratch left behind
    stamp = (path / "model.bin").stat().st_mtime_ns

    class NoConversion:
        def __init__(self, *args, **kwargs):
            raise AssertionError("converted again")

    import ctranslate2.converters

    monkeypatch.setattr(ctranslate2.converters, "TransformersConverter", NoConversion)
    again = ct2_system(str(tiny_models["marian"]), compute_type="int8")
    assert again.translate(SOURCES[:2], src_lang="en", tgt_lang="zh").hyps
    assert again.converted_path() == path and (path / "model.bin").stat().st_mtime_ns == stamp


@pytest.mark.slow
def test_parallel_batches_keep_order_and_outputs(tiny_models, tmp_path_factory):
    converted = str(tmp_path_factory.getbasetemp() / "ct2-parallel")
    sources = [f"{s} ({i})" for i, s in enumerate(SOURCES[:4] * 3)]
    one = ct2_system(str(tiny_models["marian"]), compute_type="float32", converted_dir=converted, inter_threads=1,
                  intra_threads=1)
    two = ct2_system(str(tiny_models["marian"]), compute_type="float32", converted_dir=converted, inter_threads=2,
                  intra_threads=1)
    progress = []
    two.on_progress = lambda done, total: progress.append((done, total))
    assert two.translate(sources, src_lang="en", tgt_lang="zh").hyps == one.translate(sources, src_lang="en", tgt_lang="zh").hyps
    assert two._translator.num_translators == 2
    # 16 distinct sentences (one source has two), batches of 2, reported in order as each finishes
    assert progress == [(done, 16) for done in range(2, 17, 2)]


@pytest.mark.slow
def test_parallel_batch_out_of_memory_is_retried_alone(tiny_models, tmp_path_factory, monkeypatch):
    converted = str(tmp_path_factory.getbasetemp() / "ct2-parallel")
    system = ct2_system(str(tiny_models["marian"]), compute_type="float32", converted_dir=converted, inter_threads=2,
                     intra_threads=1)
    expected = ct2_system(str(tiny_models["marian"]), compute_type="float32", converted_dir=converted,
                       inter_threads=1).translate(SOURCES[:4], src_lang="en", tgt_lang="zh").hyps
    real_submit = system._submit

    class Failed:
        def result(self):
            raise RuntimeError("CUDA failed with error out of memory")

    def submit(sentences, src_lang, tgt_lang, *, asynchronous=False):
        return [Failed() for _ in sentences] if asynchronous else real_submit(sentences, src_lang, tgt_lang)

    monkeypatch.setattr(system, "_submit", submit)
    assert system.translate(SOURCES[:4], src_lang="en", tgt_lang="zh").hyps == expected

    class Broken:
        def result(self):
            raise RuntimeError("vocabulary mismatch")

    monkeypatch.setattr(system, "_submit", lambda sentences, *_, asynchronous=False: [Broken() for _ in sentences])
    with pytest.raises(RuntimeError, match="vocabulary mismatch"):
        system.translate(SOURCES[:4], src_lang="en", tgt_lang="zh").hyps
