"""The models `make bench-eval` times: the default config's system and metrics at their real architectures
(random weights), or the tests' tiny ones; each under the key the bench's Hub cache names it by."""
from __future__ import annotations

from pathlib import Path

from mteval.bench.models import build_bench_spm, build_comet_large, build_opus_mt_sized
from mteval.metrics.mt5_tokenizer import MT5_MODEL_VOCAB, MT5_TOKENIZER_VOCAB
from mteval.testing._build import SEED, cached_build
from mteval.testing.tiny_comet import build_comet, build_xlmr_encoder
from mteval.testing.tiny_metricx import build_metricx
from mteval.testing.tiny_models import build_marian
from mteval.testing.tiny_spm import build_sentencepiece

#: The Hub ids the bench's own Hub cache gives its models. MetricX's tokenizer stays a local directory: a
#: Hub tokenizer must ship spiece.model, as google/mt5-xl does, and the bench's is a tokenizer.json.
HUB_IDS = {"system": "mteval-bench/opus-mt-en-zh-sized", "comet": "mteval-bench/wmt22-comet-da-sized",
           "metricx": "mteval-bench/metricx-24-hybrid-large-sized"}
#: google/metricx-24-hybrid-large-v2p6 is mT5-large fine-tuned for regression (its model card); mT5-large's
#: config.json (huggingface.co/google/mt5-large): 24 + 24 layers, d_model 1024, d_ff 2816 gated-GELU, 16 heads
#: of 64, 250,112 rows, untied output layer: 1.2B weights, 4.9 GB in float32.
MT5_LARGE = dict(d_model=1024, d_kv=64, d_ff=2816, num_layers=24, num_decoder_layers=24, num_heads=16,
                 feed_forward_proj="gated-gelu", tie_word_embeddings=False, vocab_size=MT5_MODEL_VOCAB,
                 pad_token_id=0, eos_token_id=1, decoder_start_token_id=0)


def build_mt5_sized_tokenizer(out_dir: Path, spm_dir: Path) -> Path:
    """An mT5-numbered fast tokenizer of mT5's size: pad 0, eos 1, unk 2, the bench SentencePiece's pieces
    (trained on WMT22 en-zh, so texts split about as a real vocabulary splits them), unused fillers up to
    250,000 entries, then the 100 sentinels numbered downwards (``<extra_id_10>`` = 250089, MetricX's readout)."""

    def build(tmp: Path) -> None:
        import sentencepiece as spm
        from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
        from transformers import T5TokenizerFast

        sp = spm.SentencePieceProcessor(model_file=str(spm_dir / "spm.model"))
        vocab = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
        vocab += [(sp.id_to_piece(i), sp.get_score(i)) for i in range(sp.get_piece_size())
                  if not (sp.is_control(i) or sp.is_unknown(i))]
        vocab += [(f"▁<filler{i}>", -1e4) for i in range(MT5_TOKENIZER_VOCAB - 100 - len(vocab))]
        vocab += [(f"<extra_id_{i}>", 0.0) for i in range(99, -1, -1)]
        tok = Tokenizer(models.Unigram(vocab, unk_id=2))
        tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
        tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
        tok.post_processor = processors.TemplateProcessing(single="$A </s>", pair="$A </s> $B </s>",
                                                           special_tokens=[("</s>", 1)])
        T5TokenizerFast(tokenizer_object=tok, eos_token="</s>", unk_token="<unk>", pad_token="<pad>",
                        extra_ids=0).save_pretrained(tmp)

    return cached_build(out_dir, "mt5-sized-tokenizer", build)


def build_metricx_large(root: Path, tok_dir: Path, *, seed: int = SEED) -> Path:
    """A MetricX-24 hybrid-large-sized checkpoint (random weights; the tokenizer in ``tok_dir`` saved beside it).
    Scores come out anywhere (clipped to [0, 25]): this model is for timing only."""

    def build(tmp: Path) -> None:
        import torch
        from transformers import AutoTokenizer, MT5Config, MT5ForConditionalGeneration

        torch.manual_seed(seed)
        model = MT5ForConditionalGeneration(MT5Config(**MT5_LARGE))
        model.config.architectures = ["MT5ForRegression"]
        model.save_pretrained(tmp)
        AutoTokenizer.from_pretrained(tok_dir).save_pretrained(tmp)

    return cached_build(root / "metricx-large-sized", "metricx-large-sized", build)


def real_size_models(root: Path) -> dict[str, Path]:
    """opus-mt-en-zh's Marian, a COMET-22-sized (XLM-R large) COMET and a MetricX-24-large-sized mT5."""
    tokenizer = build_mt5_sized_tokenizer(root / "mt5-sized-tokenizer", build_bench_spm(root / "spm"))
    return {"system": build_opus_mt_sized(root / "opus-mt-en-zh-sized", build_bench_spm(root / "spm")),
            "comet": build_comet_large(root), "metricx": build_metricx_large(root, tokenizer),
            "metricx_tokenizer": tokenizer}


def tiny_models(root: Path) -> dict[str, Path]:
    """The tests' tiny Marian, COMET and MetricX: the same code paths in seconds (for tests)."""
    spm = build_sentencepiece(root / "spm")
    return {"system": build_marian(root / "marian", spm_dir=spm),
            "comet": build_comet(root / "comet", build_xlmr_encoder(root / "xlmr", spm_dir=spm)),
            "metricx": build_metricx(root / "metricx", root / "mt5-tokenizer"),
            "metricx_tokenizer": root / "mt5-tokenizer"}
