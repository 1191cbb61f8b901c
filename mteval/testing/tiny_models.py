"""Tiny random-weight translation and chat models, built offline in seconds, that load like the real ones."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from mteval.testing._build import SEED, cached_build, save_fast_tokenizer
from mteval.testing.tiny_chat import build_chat_lm
from mteval.testing.tiny_comet import build_comet, build_cometkiwi, build_xlmr_encoder
from mteval.testing.tiny_metricx import build_metricx, build_mt5_tokenizer
from mteval.testing.tiny_spm import build_sentencepiece, sentencepiece_file, spm_pieces
from mteval.testing.tiny_xcomet import build_xcomet

__all__ = [
    "build_all",
    "build_chat_lm",
    "build_comet",
    "build_cometkiwi",
    "build_m2m100",
    "build_marian",
    "build_metricx",
    "build_mt5_tokenizer",
    "build_nllb",
    "build_sentencepiece",
    "build_xcomet",
    "build_xlmr_encoder",
]

# Seq2seq decoding limit: random weights rarely emit EOS, so every call would
# otherwise run to the positional limit.
MAX_LENGTH = 64
# Same shape everywhere: big enough to exercise attention and layer stacking, small
# enough that a model builds and generates in well under a second.
_SEQ2SEQ_DIMS = dict(
    d_model=32,
    encoder_layers=2,
    decoder_layers=2,
    encoder_attention_heads=4,
    decoder_attention_heads=4,
    encoder_ffn_dim=64,
    decoder_ffn_dim=64,
)
# Target-variety tokens of opus-mt-en-zh (its model card: "a sentence initial language token is
# required in the form of >>id<<"); the tiny Marian vocab carries them so a missing one is caught.
MARIAN_ZH_TARGETS = (">>cmn_Hans<<", ">>cmn_Hant<<", ">>cmn<<", ">>yue_Hans<<", ">>yue_Hant<<", ">>yue<<",
                     ">>lzh<<", ">>lzh_Hans<<", ">>wuu<<", ">>gan<<", ">>nan<<", ">>zho_Hans<<", ">>zho_Hant<<")


def _seq2seq(model_cls, config_cls, out_dir: Path, seed: int, **config) -> None:
    """Save a randomly initialised seq2seq model with a short greedy generation config."""
    import torch
    from transformers import GenerationConfig

    torch.manual_seed(seed)
    model = model_cls(config_cls(**_SEQ2SEQ_DIMS, **config))
    model.generation_config = GenerationConfig.from_model_config(model.config)
    model.generation_config.update(max_length=MAX_LENGTH, num_beams=1)
    model.save_pretrained(out_dir)


def build_marian(out_dir: Path, *, spm_dir: Path | None = None, seed: int = SEED) -> Path:
    """Build a tiny en→zh `MarianMTModel` with a real `MarianTokenizer`, laid out like opus-mt.

    The vocab follows opus-mt: `</s>`=0, `<unk>`=1, the `>>id<<` target-variety tokens of
    opus-mt-en-zh (`>>cmn_Hans<<`, ...), the pieces, `<pad>` last, and decoding starts from
    `<pad>`. Source and target share one SentencePiece model.

    Args:
        out_dir: Model directory to create.
        spm_dir: A `build_sentencepiece` directory; a default one is trained if None.
        seed: Torch seed for the weights.
    """

    def build(tmp: Path) -> None:
        from transformers import MarianConfig, MarianMTModel, MarianTokenizer

        with tempfile.TemporaryDirectory() as scratch:
            spm_model = sentencepiece_file(spm_dir, Path(scratch))
            vocab = {"</s>": 0, "<unk>": 1}
            for code in MARIAN_ZH_TARGETS:
                vocab[code] = len(vocab)
            for piece in spm_pieces(spm_model):
                vocab.setdefault(piece, len(vocab))
            vocab["<pad>"] = pad_id = len(vocab)
            vocab_file = Path(scratch) / "vocab.json"
            vocab_file.write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
            tokenizer = MarianTokenizer(
                str(spm_model),
                str(spm_model),
                str(vocab_file),
                source_lang="en",
                target_lang="zh",
                model_max_length=512,
            )
            tokenizer.save_pretrained(tmp)
        _seq2seq(
            MarianMTModel,
            MarianConfig,
            tmp,
            seed,
            vocab_size=len(vocab),
            max_position_embeddings=512,
            pad_token_id=pad_id,
            eos_token_id=0,
            forced_eos_token_id=0,
            decoder_start_token_id=pad_id,
            bad_words_ids=[[pad_id]],
            scale_embedding=True,
        )

    return cached_build(out_dir, "marian", build)


def build_nllb(out_dir: Path, *, spm_dir: Path | None = None, seed: int = SEED) -> Path:
    """Build a tiny NLLB-style `M2M100ForConditionalGeneration` with a fast NLLB tokenizer.

    The tokenizer knows all of NLLB-200's language codes (`eng_Latn`, `zho_Hans`, ...)
    at the ids the slow `NllbTokenizer` gives them; both `tokenizer.json` and
    `sentencepiece.bpe.model` are saved, so `AutoTokenizer` loads the fast class and
    `use_fast=False` the slow one.
    """

    def build(tmp: Path) -> None:
        from transformers import M2M100Config, M2M100ForConditionalGeneration, NllbTokenizer, NllbTokenizerFast

        with tempfile.TemporaryDirectory() as scratch:
            spm_model = sentencepiece_file(spm_dir, Path(scratch))
            slow = NllbTokenizer(str(spm_model), src_lang="eng_Latn", tgt_lang="zho_Hans", model_max_length=1024)
            save_fast_tokenizer(slow, NllbTokenizerFast, tmp)
        _seq2seq(
            M2M100ForConditionalGeneration,
            M2M100Config,
            tmp,
            seed,
            vocab_size=len(slow),
            max_position_embeddings=1024,
            pad_token_id=slow.pad_token_id,
            bos_token_id=slow.bos_token_id,
            eos_token_id=slow.eos_token_id,
            decoder_start_token_id=slow.eos_token_id,  # as in facebook/nllb-200-*
            scale_embedding=True,
        )

    return cached_build(out_dir, "nllb", build)


def build_m2m100(out_dir: Path, *, spm_dir: Path | None = None, seed: int = SEED) -> Path:
    """Build a tiny `M2M100ForConditionalGeneration` with an `M2M100Tokenizer` (`__en__`, `__zh__`, ...).

    `vocab.json` is the fairseq dictionary (`<s>`, `<pad>`, `</s>`, `<unk>`, pieces);
    the 100 language tokens and 8 made-up words follow it, as in facebook/m2m100_418M.
    """

    def build(tmp: Path) -> None:
        from transformers import M2M100Config, M2M100ForConditionalGeneration, M2M100Tokenizer
        from transformers.models.m2m_100.tokenization_m2m_100 import FAIRSEQ_LANGUAGE_CODES

        with tempfile.TemporaryDirectory() as scratch:
            spm_model = sentencepiece_file(spm_dir, Path(scratch))
            vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
            for piece in spm_pieces(spm_model):
                vocab.setdefault(piece, len(vocab))
            vocab_file = Path(scratch) / "vocab.json"
            vocab_file.write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
            tokenizer = M2M100Tokenizer(
                str(vocab_file),
                str(spm_model),
                src_lang="en",
                tgt_lang="zh",
                model_max_length=1024,
                # Listed explicitly, as in facebook/m2m100_418M's special_tokens_map.json,
                # so decoding with skip_special_tokens drops `__zh__`; the constructor's
                # own attempt to add them never fires in transformers 4.57.
                additional_special_tokens=[f"__{code}__" for code in FAIRSEQ_LANGUAGE_CODES["m2m100"]],
            )
            tokenizer.save_pretrained(tmp)
        _seq2seq(
            M2M100ForConditionalGeneration,
            M2M100Config,
            tmp,
            seed,
            vocab_size=len(vocab) + len(tokenizer.lang_token_to_id) + tokenizer.num_madeup_words,
            max_position_embeddings=1024,
            pad_token_id=tokenizer.pad_token_id,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            decoder_start_token_id=tokenizer.eos_token_id,
            scale_embedding=True,
        )

    return cached_build(out_dir, "m2m100", build)


def build_all(root: Path) -> dict[str, Path]:
    """Build every tiny model under `root` (one SentencePiece model, one shared XLM-R encoder).

    Returns:
        Model directories keyed "spm", "marian", "nllb", "m2m100", "chat", "xlmr",
        "comet", "cometkiwi", "xcomet" (on a tiny XLM-R-XL, "xlmr_xl"), "mt5_tokenizer", "metricx".
        The COMET ones hold `checkpoints/model.ckpt`;
        "metricx" holds no tokenizer (like the real one): load it from "mt5_tokenizer".
    """
    root = Path(root)
    spm_dir = build_sentencepiece(root / "spm")
    xlmr = build_xlmr_encoder(root / "xlmr", spm_dir=spm_dir)
    return {
        "spm": spm_dir,
        "marian": build_marian(root / "marian", spm_dir=spm_dir),
        "nllb": build_nllb(root / "nllb", spm_dir=spm_dir),
        "m2m100": build_m2m100(root / "m2m100", spm_dir=spm_dir),
        "chat": build_chat_lm(root / "chat"),
        "xlmr": xlmr,
        "comet": build_comet(root / "comet", xlmr),
        "cometkiwi": build_cometkiwi(root / "cometkiwi", xlmr),
        "xcomet": build_xcomet(root / "xcomet", root / "xlmr_xl", spm_dir=spm_dir),
        "mt5_tokenizer": build_mt5_tokenizer(root / "mt5_tokenizer"),
        "metricx": build_metricx(root / "metricx", root / "mt5_tokenizer"),
    }
