"""The CTranslate2 backend: decoding settings mapped from generate's, conversion cached, output equal to HF's."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from mteval.errors import ConfigError
from mteval.systems import ctranslate2 as ct2
from mteval.systems.batching import split_cores
from mteval.systems.ct2_decoding import decoding_options
from mteval.systems.decoding import resolve_decoding
from tests.helpers import ct2_system

pytestmark = pytest.mark.filterwarnings("ignore:Recommended. pip install sacremoses")


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


def test_compute_type_auto_is_int8_on_cpu_and_checked_when_explicit(monkeypatch):
    assert ct2_system("m").resolved_compute_type() == "int8"
    assert ct2_system("m", compute_type="float32").resolved_compute_type() == "float32"
    with pytest.raises(ConfigError, match="not supported on cpu"):
        ct2_system("m", compute_type="float16").resolved_compute_type()  # a GPU type
    with pytest.raises(ConfigError, match="compute_type"):
        ct2_system("m", compute_type="no_such_type")  # not one of CTranslate2's: refused at construction
    with pytest.raises(ConfigError, match="device"):
        ct2_system("m", device="tpu")
    import ctranslate2

    monkeypatch.setattr(ctranslate2, "get_cuda_device_count", lambda: 2)  # CTranslate2's own count decides
    assert ct2_system("m", device="cuda:1").device_and_index() == ("cuda", 1)
    assert ct2_system("m", device="auto").device_and_index() == ("cuda", 0)
    monkeypatch.setattr(ctranslate2, "get_cuda_device_count", lambda: 0)
    with pytest.raises(ConfigError, match=r"system\.device='cuda:1' but no CUDA GPU is visible"):
        ct2_system("m", device="cuda:1").device_and_index()
    assert ct2_system("m", device="auto").device_and_index() == ("cpu", 0)


def test_converted_path_follows_the_model_files(tmp_path, monkeypatch):
    monkeypatch.setattr(ct2, "CACHE_DIR", tmp_path / "cache")
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}", encoding="utf-8")
    first = ct2_system(str(model)).converted_path()
    assert first.parent == tmp_path / "cache" and first.name.startswith("model-")
    assert ct2_system(str(model), compute_type="float32").converted_path() == first  # one conversion, any type
    (model / "config.json").write_text('{"changed": true}', encoding="utf-8")
    os.utime(model / "config.json", ns=(1, 1))
    assert ct2_system(str(model)).converted_path() != first
    assert ct2_system(str(model), converted_dir=str(tmp_path / "mine")).converted_path() == tmp_path / "mine"


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
