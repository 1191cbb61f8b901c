"""The tiny local models load through the real transformers and COMET code paths and produce output."""

from __future__ import annotations

import hashlib
import math
import time
from pathlib import Path

import pytest
import yaml

pytestmark = [
    pytest.mark.slow,
    # Noise from the libraries' own code paths, which the real models hit too.
    pytest.mark.filterwarnings("ignore:Recommended. pip install sacremoses"),
    pytest.mark.filterwarnings("ignore:.*LeafSpec"),
]

SOURCES = ["Large language models can translate scientific abstracts.", "We present a new dataset.", "Model scale"]
HYPOTHESES = ["大型语言模型可以翻译科学摘要。", "我们提出一个新的数据集。", "模型"]
REFERENCES = ["大语言模型能够翻译科学摘要。", "我们介绍了一个新数据集。", "模型规模"]
BATCH = SOURCES[:2]  # what the generation tests translate, padded as one batch


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory) -> dict[str, Path]:
    """Every tiny model, built once per session."""
    from mteval.testing.tiny_models import build_all

    return build_all(tmp_path_factory.mktemp("tiny_models"))


def _digest(model_dir: Path) -> dict[str, str]:
    """SHA-256 of each top-level file, by name (the completion marker included)."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(model_dir.iterdir()) if p.is_file()}


def test_build_all_layout_and_cache(tiny_models):
    from mteval.testing.tiny_models import build_all

    assert set(tiny_models) == {"spm", "marian", "nllb", "m2m100", "chat", "xlmr", "comet", "cometkiwi",
                                "xcomet", "mt5_tokenizer", "metricx"}
    # Like google/metricx-24-*: the model ships no tokenizer; it is loaded from the mT5 tokenizer repo.
    assert (tiny_models["mt5_tokenizer"] / "spiece.model").is_file()
    assert not (tiny_models["metricx"] / "spiece.model").exists()
    for name in ("comet", "cometkiwi"):
        assert (tiny_models[name] / "checkpoints" / "model.ckpt").is_file()
        hparams = yaml.safe_load((tiny_models[name] / "hparams.yaml").read_text(encoding="utf-8"))
        assert hparams["pretrained_model"] == str(tiny_models["xlmr"].resolve())
    # XCOMET builds on its own encoder architecture (XLM-R-XL), beside the shared XLM-R.
    xcomet = yaml.safe_load((tiny_models["xcomet"] / "hparams.yaml").read_text(encoding="utf-8"))
    assert xcomet["pretrained_model"] == str((tiny_models["spm"].parent / "xlmr_xl").resolve())
    start = time.perf_counter()
    assert build_all(tiny_models["spm"].parent) == tiny_models
    assert time.perf_counter() - start < 1.0


def test_builds_are_deterministic(tiny_models, tmp_path):
    from mteval.testing.tiny_models import build_chat_lm, build_marian, build_sentencepiece

    spm_dir = build_sentencepiece(tmp_path / "spm")
    assert _digest(spm_dir) == _digest(tiny_models["spm"])
    assert _digest(build_marian(tmp_path / "marian", spm_dir=spm_dir)) == _digest(tiny_models["marian"])
    assert _digest(build_chat_lm(tmp_path / "chat")) == _digest(tiny_models["chat"])


def test_sentencepiece_covers_every_seed_character(tiny_models):
    import sentencepiece as spm

    from mteval.testing.tiny_spm import seed_text

    sp = spm.SentencePieceProcessor(model_file=str(tiny_models["spm"] / "spm.model"))
    assert sp.get_piece_size() == 1000
    assert not any(sp.unk_id() in ids for ids in sp.encode(seed_text()))


def _load_seq2seq(model_dir: Path):
    """Load the way the seq2seq systems do: Auto classes, default (fast where available) tokenizer."""
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    return AutoTokenizer.from_pretrained(model_dir), AutoModelForSeq2SeqLM.from_pretrained(model_dir).eval()


def _generate(tokenizer, model, **kwargs):
    """Translate BATCH, check the decoded text is clean, and return the generated ids."""
    import torch

    batch = tokenizer(BATCH, return_tensors="pt", padding=True)
    with torch.no_grad():
        out = model.generate(**batch, **kwargs)
    assert out.shape[0] == len(BATCH) and out.shape[1] <= model.generation_config.max_length
    texts = tokenizer.batch_decode(out, skip_special_tokens=True)
    assert all(isinstance(t, str) for t in texts)
    assert not any(code in t for t in texts for code in ("__zh__", "zho_Hans", "<pad>", "</s>"))
    return out


def test_marian_generates(tiny_models):
    tokenizer, model = _load_seq2seq(tiny_models["marian"])
    assert type(tokenizer).__name__ == "MarianTokenizer"
    assert model.config.decoder_start_token_id == tokenizer.pad_token_id
    out = _generate(tokenizer, model)
    assert (out[:, 0] == tokenizer.pad_token_id).all()


def test_nllb_generates_with_forced_bos(tiny_models):
    from transformers import AutoTokenizer

    tokenizer, model = _load_seq2seq(tiny_models["nllb"])
    assert type(tokenizer).__name__ == "NllbTokenizerFast"
    tokenizer.src_lang = "eng_Latn"
    zho = tokenizer.convert_tokens_to_ids("zho_Hans")
    assert zho != tokenizer.unk_token_id and zho < model.config.vocab_size
    out = _generate(tokenizer, model, forced_bos_token_id=zho)
    assert (out[:, 1] == zho).all()
    slow = AutoTokenizer.from_pretrained(tiny_models["nllb"], use_fast=False, src_lang="eng_Latn")
    for text in [*SOURCES, *HYPOTHESES]:
        assert slow(text).input_ids == tokenizer(text).input_ids


def test_m2m100_generates_with_forced_bos(tiny_models):
    tokenizer, model = _load_seq2seq(tiny_models["m2m100"])
    assert type(tokenizer).__name__ == "M2M100Tokenizer"
    tokenizer.src_lang = "en"
    zh = tokenizer.get_lang_id("zh")
    assert zh < model.config.vocab_size
    out = _generate(tokenizer, model, forced_bos_token_id=zh)
    assert (out[:, 1] == zh).all()


def test_chat_lm_generates_from_template(tiny_models):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_models["chat"])
    model = AutoModelForCausalLM.from_pretrained(tiny_models["chat"]).eval()
    assert tokenizer.is_fast and tokenizer.padding_side == "left"
    prompts = [
        tokenizer.apply_chat_template(
            [{"role": "user", "content": f"Translate into Chinese:\n{s}"}], add_generation_prompt=True, tokenize=False
        )
        for s in BATCH
    ]
    assert prompts[0].startswith("<|im_start|>system\n") and prompts[0].endswith("<|im_start|>assistant\n")
    batch = tokenizer(prompts, return_tensors="pt", padding=True)
    with torch.no_grad():
        out = model.generate(**batch, max_new_tokens=8)
    new = tokenizer.batch_decode(out[:, batch.input_ids.shape[1] :], skip_special_tokens=True)
    assert len(new) == len(BATCH) and all(isinstance(t, str) for t in new)


def _predict(model_dir: Path, samples: list[dict[str, str]]):
    """Score with COMET on CPU, as the metric does offline, and check the scores are usable."""
    from comet import load_from_checkpoint

    model = load_from_checkpoint(str(model_dir / "checkpoints" / "model.ckpt"), local_files_only=True)
    result = model.predict(samples, batch_size=8, gpus=0, progress_bar=False)
    assert len(result.scores) == len(samples)
    assert all(math.isfinite(s) for s in result.scores) and math.isfinite(result.system_score)
    assert len(set(result.scores)) > 1  # random, but still a function of the input
    return result


def test_comet_scores_with_references(tiny_models):
    samples = [{"src": s, "mt": m, "ref": r} for s, m, r in zip(SOURCES, HYPOTHESES, REFERENCES)]
    _predict(tiny_models["comet"], samples)


def test_cometkiwi_scores_without_references(tiny_models):
    samples = [{"src": s, "mt": m} for s, m in zip(SOURCES, HYPOTHESES)]
    _predict(tiny_models["cometkiwi"], samples)
