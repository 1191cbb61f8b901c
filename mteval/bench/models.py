"""Random-weight benchmark models with real architectures: opus-mt-en-zh's Marian, XLM-R-base and -large COMET."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

from mteval.testing._build import SEED, cached_build
from mteval.testing.tiny_comet import build_comet, build_xlmr_encoder
from mteval.testing.tiny_models import MARIAN_ZH_TARGETS
from mteval.testing.tiny_spm import build_sentencepiece, spm_pieces
from mteval.data.sacrebleu_cache import entry, read_fields



def wmt22_en_zh(field: str) -> Path:
    """The text file of one WMT22 en-zh field (``src``, ``ref:A``, ``ref:B``) in sacrebleu's cache.

    The bench reads the test set the way runs do: through sacrebleu, downloaded once (offline:
    lay out a cache with ``python -m mteval.testing.sacrebleu_mirror`` and set ``SACREBLEU``).
    """

    return read_fields(entry("wmt22", "en-zh"), "en-zh")[field]


def source_file() -> Path:
    return wmt22_en_zh("src")


def reference_files() -> tuple[Path, Path]:
    return wmt22_en_zh("ref:A"), wmt22_en_zh("ref:B")

# Helsinki-NLP/opus-mt-en-zh's config.json: a transformer-base Marian model with one shared
# 65,001-entry vocabulary (pad = 65000, the last id), swish activations, sinusoidal positions.
OPUS_MT_EN_ZH = dict(
    vocab_size=65001,
    d_model=512,
    encoder_layers=6,
    decoder_layers=6,
    encoder_attention_heads=8,
    decoder_attention_heads=8,
    encoder_ffn_dim=2048,
    decoder_ffn_dim=2048,
    activation_function="swish",
    max_position_embeddings=512,
    scale_embedding=True,
    share_encoder_decoder_embeddings=True,
    bos_token_id=0,
    eos_token_id=0,
    pad_token_id=65000,
    decoder_start_token_id=65000,
    # The real config also forces EOS at the length limit; left out so every backend runs
    # exactly max_new_tokens decoding steps.
    forced_eos_token_id=None,
)
# xlm-roberta-base (the encoder of COMET-22's smaller siblings); the vocabulary stays the
# benchmark tokenizer's, which changes the embedding table's size, not the compute per token.
XLMR_BASE = dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072,
                 max_position_embeddings=514, type_vocab_size=1)
# xlm-roberta-large, the encoder of Unbabel/wmt22-comet-da (COMET-22; its hparams.yaml names
# pretrained_model: xlm-roberta-large): 24 layers, hidden 1024, 16 heads, feed-forward 4096.
XLMR_LARGE = dict(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, intermediate_size=4096,
                  max_position_embeddings=514, type_vocab_size=1)


def build_bench_spm(out_dir: Path, *, vocab_size: int = 8000) -> Path:
    """A SentencePiece model trained on the WMT22 en-zh test set, so sentences split into
    about as many pieces as a real MT vocabulary gives (the 1,000-piece test model splits more)."""
    return build_sentencepiece(out_dir, vocab_size=vocab_size, text_files=[source_file(), *reference_files()])


def build_opus_mt_sized(out_dir: Path, spm_dir: Path, *, seed: int = SEED) -> Path:
    """A random-weight ``MarianMTModel`` with opus-mt-en-zh's exact architecture and a MarianTokenizer.

    The tokenizer's pieces come from ``spm_dir``; the rest of the 65,001 ids are filler tokens
    (the model can emit them; they decode to SentencePiece's unknown mark). EOS gets a large
    negative output bias, so no backend ever ends early: every sentence decodes to exactly
    ``max_new_tokens`` tokens and throughput is comparable across backends.
    """

    def build(tmp: Path) -> None:
        import torch
        from transformers import GenerationConfig, MarianConfig, MarianMTModel, MarianTokenizer

        config = MarianConfig(**OPUS_MT_EN_ZH)
        pad = config.pad_token_id
        vocab = {"</s>": 0, "<unk>": 1}
        for code in MARIAN_ZH_TARGETS:  # the card's target tokens (>>cmn_Hans<< ...), as conf/system/ sends them
            vocab[code] = len(vocab)
        for piece in spm_pieces(spm_dir / "spm.model"):
            vocab.setdefault(piece, len(vocab))
        filler = 0
        while len(vocab) < pad:
            vocab.setdefault(f"▁<{filler}>", len(vocab))
            filler += 1
        vocab["<pad>"] = pad
        with tempfile.TemporaryDirectory() as scratch:
            vocab_file = Path(scratch) / "vocab.json"
            vocab_file.write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
            spm_model = str(spm_dir / "spm.model")
            MarianTokenizer(spm_model, spm_model, str(vocab_file), source_lang="en", target_lang="zh",
                            model_max_length=512).save_pretrained(tmp)
        torch.manual_seed(seed)
        model = MarianMTModel(config)
        with torch.no_grad():
            model.final_logits_bias[0, config.eos_token_id] = -1e4
        # opus-mt-en-zh's generation settings, bar forced EOS (see OPUS_MT_EN_ZH).
        model.generation_config = GenerationConfig(
            bos_token_id=0, eos_token_id=0, pad_token_id=pad, decoder_start_token_id=pad,
            bad_words_ids=[[pad]], max_length=512, num_beams=4,
        )
        model.save_pretrained(tmp)

    return cached_build(out_dir, "opus-mt-en-zh-sized", build)


def build_xlmr_base(out_dir: Path, tokenizer_dir: Path, *, seed: int = SEED) -> Path:
    """A random-weight XLM-R-base-sized encoder with the tokenizer saved in ``tokenizer_dir``."""
    return _build_xlmr_sized(out_dir, tokenizer_dir, XLMR_BASE, "xlmr-base-sized", seed)


def build_xlmr_large(out_dir: Path, tokenizer_dir: Path, *, seed: int = SEED) -> Path:
    """A random-weight XLM-R-large-sized encoder with the tokenizer saved in ``tokenizer_dir``."""
    return _build_xlmr_sized(out_dir, tokenizer_dir, XLMR_LARGE, "xlmr-large-sized", seed)


def _build_xlmr_sized(out_dir: Path, tokenizer_dir: Path, sizes: dict, name: str, seed: int) -> Path:
    def build(tmp: Path) -> None:
        import torch
        from transformers import XLMRobertaConfig, XLMRobertaModel, XLMRobertaTokenizerFast

        tok = XLMRobertaTokenizerFast.from_pretrained(tokenizer_dir)
        tok.save_pretrained(tmp)
        torch.manual_seed(seed)
        config = XLMRobertaConfig(vocab_size=len(tok), pad_token_id=tok.pad_token_id, bos_token_id=tok.bos_token_id,
                                  eos_token_id=tok.eos_token_id, **sizes)
        XLMRobertaModel(config, add_pooling_layer=False).save_pretrained(tmp)

    return cached_build(out_dir, name, build)


def build_comet_large(root: Path) -> Path:
    """A COMET-22-sized (XLM-R large) random-weight RegressionMetric checkpoint under ``root``, built once."""
    root = Path(root)
    xlmr_tiny = build_xlmr_encoder(root / "xlmr-tiny", spm_dir=build_bench_spm(root / "spm"))
    return build_comet(root / "comet-large", build_xlmr_large(root / "xlmr-large", xlmr_tiny))


def build_bench_models(root: Path) -> dict[str, Path]:
    """Every benchmark model under ``root`` (built once; later calls return at once).

    Returns:
        Directories keyed ``spm``, ``marian`` (opus-mt-en-zh-sized), ``comet_tiny`` and
        ``comet_base`` (COMET checkpoints on a 2-layer and an XLM-R-base-sized encoder).
    """
    root = Path(root)
    spm = build_bench_spm(root / "spm")
    xlmr_tiny = build_xlmr_encoder(root / "xlmr-tiny", spm_dir=spm)
    xlmr_base = build_xlmr_base(root / "xlmr-base", xlmr_tiny)
    return {
        "spm": spm,
        "marian": build_opus_mt_sized(root / "opus-mt-en-zh-sized", spm),
        "comet_tiny": build_comet(root / "comet-tiny", xlmr_tiny),
        "comet_base": build_comet(root / "comet-base", xlmr_base),
    }
