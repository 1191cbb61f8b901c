"""Each real model's contract, tested on tiny models that carry the same tokens and config files:
target token, direction, resolved decoding identical across backends, identity by content."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hydra.errors import InstantiationException
from hydra.utils import instantiate

from mteval.errors import ConfigError, ModelUnavailableError
from mteval.hub.identity import model_identity
from mteval.systems.decoding import resolve_decoding
from mteval.systems.hf_chat import HFChat
from mteval.systems.hf_seq2seq import HFSeq2Seq
from mteval.systems.vllm_chat import VLLMChat

pytestmark = pytest.mark.filterwarnings("ignore:Recommended. pip install sacremoses")

TWO_SENTENCES = ["We present a new dataset. It has two parts.", "Model scale matters."]
MTEVAL = str(Path(sys.executable).parent / "mteval")


def _marian(model: Path, **kw) -> HFSeq2Seq:
    args = dict(name="opus", model=str(model), target_token=">>cmn_Hans<<", max_new_tokens=6, batch_size=4,
                max_tokens=None, max_input_tokens=512, split_sentences=True, device="cpu", dtype="float32",
                parallel_batches=1, language_pairs=["en-zh"])
    return HFSeq2Seq(**{**args, **kw})


def _capture_generate(system) -> list[dict]:
    """Record what the HF backend hands ``generate`` (inputs and keywords), then generate as usual."""
    system.load()
    calls: list[dict] = []
    real = system._model.generate

    def spy(**kwargs):
        calls.append(kwargs)
        return real(**kwargs)

    system._model.generate = spy
    return calls


# -- 1. the target token --------------------------------------------------------------------
@pytest.mark.parametrize("option", ["opus_mt_en_zh", "opus_mt_en_zh_ct2"])
def test_opus_mt_en_zh_configs_name_the_simplified_mandarin_token(compose, option):
    assert compose(f"system={option}").system.target_token == ">>cmn_Hans<<"


def test_target_token_is_the_first_source_token_of_every_sentence_hf(tiny_models):
    system = _marian(tiny_models["marian"])
    calls = _capture_generate(system)
    system.translate(TWO_SENTENCES, src_lang="en", tgt_lang="zh").hyps
    code = system.tokenizer.convert_tokens_to_ids(">>cmn_Hans<<")
    rows = [row for call in calls for row in call["input_ids"].tolist()]
    assert len(rows) == 3  # split into sentences: each one carries the token
    assert all(row[0] == code for row in rows)
    assert system.fingerprint()["target_token"] == ">>cmn_Hans<<"
    assert "|tgt_token:>>cmn_Hans<<|search:greedy|" in system.fingerprint()["signature"]  # the tiny model's own beams: 1


@pytest.mark.slow
def test_target_token_is_the_first_source_token_of_every_sentence_ct2(tiny_models, tmp_path_factory, monkeypatch):
    from mteval.systems.ctranslate2 import CT2Seq2Seq

    system = CT2Seq2Seq(name="opus", model=str(tiny_models["marian"]), target_token=">>cmn_Hans<<",
                        max_new_tokens=6, batch_size=4, max_tokens=None, device="cpu", compute_type="float32",
                        inter_threads=1, converted_dir=str(tmp_path_factory.getbasetemp() / "ct2-contract"))
    seen: list[list[str]] = []
    real = system.engine_inputs

    def spy(sentences, src_lang, tgt_lang):
        inputs = real(sentences, src_lang, tgt_lang)
        seen.extend(inputs["source"])
        return inputs

    monkeypatch.setattr(system, "engine_inputs", spy)
    system.translate(TWO_SENTENCES, src_lang="en", tgt_lang="zh").hyps
    assert len(seen) == 3 and all(tokens[0] == ">>cmn_Hans<<" for tokens in seen)


def test_a_target_token_the_vocabulary_lacks_is_refused(tiny_models):
    system = HFSeq2Seq(name="nllb", model=str(tiny_models["nllb"]), target_token=">>cmn_Hans<<", device="cpu",
                       lang_codes={"en": "eng_Latn", "zh": "zho_Hans"})
    with pytest.raises(ConfigError, match="cmn_Hans"):
        system.load()


# -- 2. direction ---------------------------------------------------------------------------
@pytest.mark.parametrize("option", ["opus_mt_en_zh", "opus_mt_en_zh_ct2"])
def test_single_pair_model_refuses_the_other_direction_at_instantiation(compose, option):
    cfg = compose(f"system={option}", "dataset=wmt22_zh_en")
    with pytest.raises(InstantiationException, match="translates en-zh only, but the dataset is zh-en"):
        instantiate(cfg.system, _convert_="all")


def test_wrong_direction_is_one_line_and_exit_2_from_the_cli(tmp_path):
    src = tmp_path / "src.zh"
    src.write_text("我们提出了一个新的数据集。\n", encoding="utf-8")
    run = subprocess.run(
        [MTEVAL, "dataset=files", f"dataset.load.src={src}", "dataset.direction=zh-en",
         "system=opus_mt_en_zh", "metrics=[chrf]", f"results_dir={tmp_path}",
         "cache=null"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert "translates en-zh only" in run.stderr and len(run.stderr.strip().splitlines()) == 1


def test_every_model_system_declares_its_language_pairs(compose):
    for option in ("opus_mt_en_zh", "opus_mt_en_zh_ct2", "opus_mt_zh_en", "nllb_600m", "nllb_600m_ct2",
                   "m2m100_418m", "m2m100_418m_ct2", "qwen2_5_1_5b", "qwen2_5_1_5b_vllm"):
        pairs = list(compose(f"system={option}").system.language_pairs)
        assert pairs == (["zh-en"] if option == "opus_mt_zh_en" else ["en-zh"] if "opus" in option
                         else ["en-zh", "zh-en"]), option


@pytest.mark.parametrize(("family", "codes", "src_token", "forced"), [
    ("nllb", {"en": "eng_Latn", "zh": "zho_Hans"}, "zho_Hans", "eng_Latn"),
    ("m2m100", {"en": "en", "zh": "zh"}, "__zh__", "__en__"),
])
def test_many_to_many_models_follow_the_dataset_direction(tiny_models, compose, family, codes, src_token, forced):
    option = {"nllb": "nllb_600m", "m2m100": "m2m100_418m"}[family]
    instantiate(compose(f"system={option}", "dataset=wmt22_zh_en").system, _convert_="all")  # not refused
    system = HFSeq2Seq(name=family, model=str(tiny_models[family]), lang_codes=codes, max_new_tokens=4,
                       device="cpu", dtype="float32", parallel_batches=1, language_pairs=["en-zh", "zh-en"])
    calls = _capture_generate(system)
    system.translate(["我们提出了一个新的数据集。"], src_lang="zh", tgt_lang="en").hyps
    tok = system.tokenizer
    assert calls[0]["forced_bos_token_id"] == tok.convert_tokens_to_ids(forced)
    assert tok.convert_tokens_to_ids(src_token) in calls[0]["input_ids"][0].tolist()[:2]


def test_chat_prompt_names_both_languages_of_the_direction(tiny_models):
    system = HFChat(name="chat", model=str(tiny_models["chat"]), device="cpu", dtype="float32")
    prompt = system.prompt("我们提出了一个新的数据集。", src_lang="zh", tgt_lang="en")
    assert prompt.index("Chinese") < prompt.index("English")


# -- 3. decoding ----------------------------------------------------------------------------
QWEN_FILE = {"do_sample": True, "temperature": 0.7, "top_p": 0.8, "top_k": 20, "repetition_penalty": 1.1}


@pytest.mark.parametrize(("model_file", "config", "expected"), [
    # Qwen2.5-Instruct: "greedy" means no sampling and no penalty, whatever its file says.
    (QWEN_FILE, {}, {"num_beams": 1, "repetition_penalty": 1.0, "mode": "greedy"}),
    # ... unless the config asks for one.
    (QWEN_FILE, {"repetition_penalty": 1.05}, {"repetition_penalty": 1.05}),
    # opus-mt-zh-en's config.json: num_beams 6 is the model's own and applies unless overridden.
    ({"num_beams": 6, "max_length": 512}, {}, {"num_beams": 6, "mode": "beam6"}),
    ({"num_beams": 6}, {"num_beams": 4}, {"num_beams": 4}),
    ({"length_penalty": 0.6, "no_repeat_ngram_size": 3}, {}, {"length_penalty": 0.6, "no_repeat_ngram_size": 0}),
])
def test_decoding_resolution(model_file, config, expected):
    described = resolve_decoding(model_file, max_new_tokens=16, **config).describe()
    assert {k: described[k] for k in expected} == expected


def test_ignored_model_defaults_are_recorded():
    ignored = resolve_decoding(QWEN_FILE, max_new_tokens=8).describe()["ignored_model_defaults"]
    assert ignored == QWEN_FILE


def _copy_with_generation_config(src: Path, dst: Path, **settings) -> Path:
    shutil.copytree(src, dst)
    path = dst / "generation_config.json"
    path.write_text(json.dumps({**json.loads(path.read_text(encoding="utf-8")), **settings}), encoding="utf-8")
    return dst


def test_chat_backends_give_their_engines_the_same_decoding(tiny_models):
    model = str(tiny_models["chat"])
    assert json.loads((tiny_models["chat"] / "generation_config.json").read_text())["repetition_penalty"] == 1.1
    hf = HFChat(name="h", model=model, max_new_tokens=8, device="cpu", dtype="float32")
    hf.load()
    gen = hf.generate_kwargs()
    vllm = VLLMChat(name="v", model=model, max_new_tokens=8).sampling_kwargs()
    assert gen["do_sample"] is False and vllm["temperature"] == 0.0  # both greedy
    assert gen["num_beams"] == 1 and gen["repetition_penalty"] == vllm["repetition_penalty"] == 1.0
    assert gen["max_new_tokens"] == vllm["max_tokens"] == 8
    assert hf.fingerprint()["decoding"] == VLLMChat(name="v", model=model, max_new_tokens=8).fingerprint()["decoding"]
    out = hf.translate(["We present a new dataset."] * 2, src_lang="en", tgt_lang="zh").hyps
    assert out[0] == out[1] == hf.translate(["We present a new dataset."], src_lang="en", tgt_lang="zh").hyps[0]


def test_seq2seq_backends_give_their_engines_the_same_decoding(tiny_models, tmp_path):
    from mteval.systems.ct2_decoding import decoding_options
    from mteval.systems.ctranslate2 import CT2Seq2Seq

    model = _copy_with_generation_config(tiny_models["marian"], tmp_path / "m", num_beams=6, repetition_penalty=1.3)
    hf = _marian(model, max_new_tokens=10)
    ct2 = CT2Seq2Seq(name="c", model=str(model), target_token=">>cmn_Hans<<", max_new_tokens=10, device="cpu")
    gen = hf.generate_kwargs(None)
    opts = decoding_options(ct2.model_defaults(), hf.tokenizer, tmp_path, ct2.decoding())
    assert gen["num_beams"] == opts["beam_size"] == 6  # the model's own beams, in both
    assert gen["repetition_penalty"] == opts["repetition_penalty"] == 1.0  # its penalty, in neither
    assert gen["length_penalty"] == opts["length_penalty"]
    # the model sets no early_stopping: transformers' False, which CTranslate2 cannot apply and says so
    assert gen["early_stopping"] is False and opts["patience"] == 1.0
    assert ct2.fingerprint()["decoding"]["beam_stop"] == "n-finished(asked:hf-heuristic)"
    assert hf.fingerprint()["decoding"]["beam_stop"] == "hf-heuristic"
    assert gen["no_repeat_ngram_size"] == opts["no_repeat_ngram_size"] == 0
    assert opts["max_decoding_length"] == gen["max_new_tokens"] - 1  # Marian forces EOS at the limit
    assert hf.fingerprint()["decoding"] == ct2.decoding().describe()
    assert "|search:beam6|lp:1.0|stop:hf-heuristic|rp:1.0|nrng:0|max:10|" in hf.fingerprint()["signature"]


# -- 5. identity by content -----------------------------------------------------------------
def test_swapping_weights_at_the_same_path_changes_keys_and_signatures(tiny_models, tmp_path, monkeypatch):
    from mteval.cache import digest
    from mteval.systems import ctranslate2 as ct2
    from mteval.testing.tiny_models import build_marian

    monkeypatch.setattr(ct2, "CACHE_DIR", tmp_path / "ct2")
    model = tmp_path / "model"
    shutil.copytree(tiny_models["marian"], model)
    before = _marian(model).fingerprint()
    converted = ct2.CT2Seq2Seq(name="c", model=str(model)).converted_path()
    other = build_marian(tmp_path / "other", spm_dir=tiny_models["spm"], seed=1)
    shutil.copy(other / "model.safetensors", model / "model.safetensors")
    after = _marian(model).fingerprint()
    assert before["model"] == after["model"] and before["model_identity"] != after["model_identity"]
    assert digest({"system": before}) != digest({"system": after})
    assert ct2.CT2Seq2Seq(name="c", model=str(model)).converted_path() != converted


def test_hub_models_are_identified_by_their_resolved_commit(tmp_path, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    refs = tmp_path / "models--Helsinki-NLP--opus-mt-en-zh" / "refs"
    refs.mkdir(parents=True)
    (refs / "main").write_text("a" * 40, encoding="utf-8")
    assert model_identity("Helsinki-NLP/opus-mt-en-zh") == "hub:" + "a" * 40
    (refs / "main").write_text("b" * 40, encoding="utf-8")  # the branch moved on: a different model
    assert model_identity("Helsinki-NLP/opus-mt-en-zh") == "hub:" + "b" * 40
    assert model_identity("Helsinki-NLP/opus-mt-en-zh", "c" * 40) == "hub:" + "c" * 40
    with pytest.raises(ModelUnavailableError, match="not in the local Hugging Face cache"):
        model_identity("Helsinki-NLP/opus-mt-zh-en")  # tests run with HF_HUB_OFFLINE=1


def test_a_comet_checkpoint_swapped_at_the_same_path_changes_the_metric_key(tiny_models, tmp_path):
    from mteval.metrics.comet import Comet

    model = tmp_path / "comet"
    shutil.copytree(tiny_models["comet"], model)

    def fingerprint():
        return Comet(model=str(model), name="comet", reference_free=False).fingerprint()

    before = fingerprint()
    ckpt = model / "checkpoints" / "model.ckpt"
    ckpt.write_bytes(ckpt.read_bytes() + b"\0")  # other weights, same path and settings
    after = fingerprint()
    assert before["settings"] == after["settings"]
    assert before["model_identity"] != after["model_identity"]
