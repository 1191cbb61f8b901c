"""The CTranslate2 backend: decoding settings mapped from generate's, conversion cached, output equal to HF's."""
from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from mteval.errors import ConfigError
from mteval.systems import ctranslate2 as ct2
from mteval.systems.batching import split_cores
from mteval.systems.ct2_decoding import decoding_options
from mteval.systems.ctranslate2 import CT2Seq2Seq
from mteval.systems.decoding import resolve_decoding

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


class FakeTokenizer:
    """Maps id n to token 'tN'."""

    def convert_ids_to_tokens(self, ids):
        return [f"t{i}" for i in ids]


def _write_vocab(path: Path, tokens: list[str]) -> Path:
    import json

    path.mkdir(parents=True, exist_ok=True)
    (path / "shared_vocabulary.json").write_text(json.dumps(tokens), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("gen", "expected"),
    [
        ({}, {"max_decoding_length": 20, "length_penalty": 1.0, "no_repeat_ngram_size": 0,
              "repetition_penalty": 1.0, "suppress_sequences": None, "beam_size": 4}),
        # Marian: generate forces EOS at the limit, keeping one token fewer.
        ({"forced_eos_token_id": 0}, {"max_decoding_length": 19}),
        # 0.0 is a real length penalty, not "unset"; the model file's penalties are not applied.
        ({"length_penalty": 0.0, "no_repeat_ngram_size": 3, "repetition_penalty": 1.2},
         {"length_penalty": 0.0, "no_repeat_ngram_size": 0, "repetition_penalty": 1.0}),
        # bad words CTranslate2 cannot emit (t9 is not in its vocabulary) are dropped.
        ({"bad_words_ids": [[1], [9], [1, 2]]}, {"suppress_sequences": [["t1"], ["t1", "t2"]]}),
    ],
)
def test_decoding_options_follow_the_generation_config(tmp_path, gen, expected):
    converted = _write_vocab(tmp_path, ["t0", "t1", "t2"])
    options = decoding_options(gen, FakeTokenizer(), converted, resolve_decoding(gen, num_beams=4, max_new_tokens=20))
    assert options["max_input_length"] == 0  # never truncate: long inputs were split before
    assert {k: options[k] for k in expected} == expected


def _system(model: str, **kw) -> CT2Seq2Seq:
    args = dict(name="t", model=model, num_beams=1, max_new_tokens=12, batch_size=2, max_tokens=None,
                max_input_tokens=512, split_sentences=True, device="cpu")
    return CT2Seq2Seq(**{**args, **kw})


def test_compute_type_auto_is_int8_on_cpu_and_checked_when_explicit(monkeypatch):
    assert _system("m").resolved_compute_type() == "int8"
    assert _system("m", compute_type="float32").resolved_compute_type() == "float32"
    with pytest.raises(ConfigError, match="not supported on cpu"):
        _system("m", compute_type="float16").resolved_compute_type()  # a GPU type
    with pytest.raises(ConfigError, match="compute_type"):
        _system("m", compute_type="no_such_type")  # not one of CTranslate2's: refused at construction
    with pytest.raises(ConfigError, match="device"):
        _system("m", device="tpu")
    import ctranslate2

    monkeypatch.setattr(ctranslate2, "get_cuda_device_count", lambda: 2)  # CTranslate2's own count decides
    assert _system("m", device="cuda:1").device_and_index() == ("cuda", 1)
    assert _system("m", device="auto").device_and_index() == ("cuda", 0)
    monkeypatch.setattr(ctranslate2, "get_cuda_device_count", lambda: 0)
    with pytest.raises(ConfigError, match=r"system\.device='cuda:1' but no CUDA GPU is visible"):
        _system("m", device="cuda:1").device_and_index()
    assert _system("m", device="auto").device_and_index() == ("cpu", 0)


def test_converted_path_follows_the_model_files(tmp_path, monkeypatch):
    monkeypatch.setattr(ct2, "CACHE_DIR", tmp_path / "cache")
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}", encoding="utf-8")
    first = _system(str(model)).converted_path()
    assert first.parent == tmp_path / "cache" and first.name.startswith("model-")
    assert _system(str(model), compute_type="float32").converted_path() == first  # one conversion, any type
    (model / "config.json").write_text('{"changed": true}', encoding="utf-8")
    os.utime(model / "config.json", ns=(1, 1))
    assert _system(str(model)).converted_path() != first
    assert _system(str(model), converted_dir=str(tmp_path / "mine")).converted_path() == tmp_path / "mine"


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
    system = _system(str(tiny_models["marian"]))
    path = system.convert()
    assert (path / ct2.MARKER).is_file() and (path / "model.bin").is_file()
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [path.name]  # no scratch left behind
    stamp = (path / "model.bin").stat().st_mtime_ns

    class NoConversion:
        def __init__(self, *args, **kwargs):
            raise AssertionError("converted again")

    import ctranslate2.converters

    monkeypatch.setattr(ctranslate2.converters, "TransformersConverter", NoConversion)
    again = _system(str(tiny_models["marian"]), compute_type="int8")
    assert again.translate(SOURCES[:2], src_lang="en", tgt_lang="zh").hyps
    assert again.converted_path() == path and (path / "model.bin").stat().st_mtime_ns == stamp


@pytest.mark.parametrize(
    ("cores", "inter", "intra", "expected"),
    [
        (1, 0, 0, (1, 1)),
        (2, 0, 0, (2, 1)),  # 2 batches of 1 thread: 12% faster than 1 of 2 on the 2-core bench machine
        (3, 0, 0, (2, 1)),
        (16, 0, 0, (2, 8)),
        (16, 4, 0, (4, 4)),
        (2, 1, 0, (1, 2)),  # one batch at a time gets every core
        (8, 0, 3, (2, 3)),  # explicit settings are kept
    ],
)
def test_split_cores_table(cores, inter, intra, expected):
    assert split_cores(cores, inter, intra) == expected


@pytest.mark.slow
def test_parallel_batches_keep_order_and_outputs(tiny_models, tmp_path_factory):
    converted = str(tmp_path_factory.getbasetemp() / "ct2-parallel")
    sources = [f"{s} ({i})" for i, s in enumerate(SOURCES[:4] * 3)]
    one = _system(str(tiny_models["marian"]), compute_type="float32", converted_dir=converted, inter_threads=1,
                  intra_threads=1)
    two = _system(str(tiny_models["marian"]), compute_type="float32", converted_dir=converted, inter_threads=2,
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
    system = _system(str(tiny_models["marian"]), compute_type="float32", converted_dir=converted, inter_threads=2,
                     intra_threads=1)
    expected = _system(str(tiny_models["marian"]), compute_type="float32", converted_dir=converted,
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
