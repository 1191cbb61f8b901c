"""A tiny random-weight MetricX-24 (mT5 regression) model and its mT5 tokenizer, laid out like the real ones."""

from __future__ import annotations

import io
from pathlib import Path

from mteval.testing._build import SEED, cached_build
from mteval.testing.tiny_spm import seed_text

# The real metric ships no tokenizer: google/metricx-24-hybrid-large-v2p6 holds config.json and
# pytorch_model.bin, and its README loads the tokenizer of google/mt5-xl. So the tiny metric is two
# directories too. mT5's SentencePiece model numbers pad 0, eos 1, unk 2 and has no bos; T5Tokenizer
# appends 100 <extra_id_N> tokens after its pieces (<extra_id_10> = 250089 in the real vocabulary,
# the regression readout of MetricX's models.py), and the model's vocab_size is padded beyond them
# (250112 for 250100 tokens). The tiny copies keep all of that, at 1000 pieces.
SPM_PIECES = 1000
VOCAB_PADDING = 12


def build_mt5_tokenizer(out_dir: Path) -> Path:
    """Train a T5-numbered SentencePiece model on the seed abstracts; save it as an mT5 tokenizer."""

    def build(tmp: Path) -> None:
        import sentencepiece as spm
        from transformers import T5Tokenizer

        model = io.BytesIO()
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(seed_text()),
            model_writer=model,
            vocab_size=SPM_PIECES,
            model_type="unigram",
            character_coverage=1.0,
            max_sentence_length=1 << 15,
            shuffle_input_sentence=False,
            num_threads=1,
            minloglevel=2,
            pad_id=0, eos_id=1, unk_id=2, bos_id=-1,  # T5/mT5 numbering
        )
        (tmp / "spiece.model").write_bytes(model.getvalue())
        T5Tokenizer(str(tmp / "spiece.model"), extra_ids=100, legacy=True).save_pretrained(tmp)

    return cached_build(out_dir, "mt5-tokenizer", build)


def build_metricx(out_dir: Path, tokenizer_dir: Path, *, seed: int = SEED, dtype: str = "float32") -> Path:
    """Build a tiny MetricX-24-like model: mT5 weights saved under the ``MT5ForRegression`` architecture.

    The readout row of ``lm_head`` (``<extra_id_10>``) is scaled so that random inputs give scores
    inside (0, 25) rather than all clipped to one end, which would make tests unable to fail.
    ``dtype="bfloat16"`` saves the weights as Google's ``-bfloat16`` releases do (config.json says so).
    """
    tokenizer_dir = build_mt5_tokenizer(tokenizer_dir)

    def build(tmp: Path) -> None:
        import torch
        from transformers import MT5Config, MT5ForConditionalGeneration, T5Tokenizer

        tok = T5Tokenizer.from_pretrained(str(tokenizer_dir), legacy=True)
        readout = tok.convert_tokens_to_ids("<extra_id_10>")
        torch.manual_seed(seed)
        config = MT5Config(
            vocab_size=len(tok) + VOCAB_PADDING,
            d_model=32, d_kv=8, d_ff=64, num_layers=2, num_decoder_layers=1, num_heads=4,
            feed_forward_proj="gated-gelu",  # as in mT5 v1.1 and every MetricX-24 size
            tie_word_embeddings=False,  # as in the real config: no output rescaling
            pad_token_id=0, eos_token_id=1, decoder_start_token_id=0,
        )
        model = MT5ForConditionalGeneration(config)
        with torch.no_grad():
            row = model.lm_head.weight[readout]
            model.lm_head.weight[readout] = row / row.norm() * 8.0
        model.config.architectures = ["MT5ForRegression"]
        model.to(getattr(torch, dtype)).save_pretrained(tmp, safe_serialization=False)  # pytorch_model.bin, as released

    return cached_build(out_dir, "metricx", build)


def build_mt5_sized_metricx(out_dir: Path, *, sentinels_descending: bool = True, seed: int = SEED) -> Path:
    """A MetricX with mT5's vocabulary sizes (250,100 tokenizer entries, 250,112 model rows) and a
    minimal model (d_model 8, one layer each side, 16 MB), tokenizer and weights in one directory.

    The tokenizer holds 250,000 placeholder pieces and then the 100 sentinels. Numbered as mT5 numbers
    them (``sentinels_descending``: ``<extra_id_99>`` first, so ``<extra_id_10>`` is 250089, the id
    MetricX reads), or the other way round (``<extra_id_10>`` = 250010), a vocabulary of mT5's size
    whose readout is not the reference's.
    """

    def build(tmp: Path) -> None:
        import torch
        from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
        from transformers import MT5Config, MT5ForConditionalGeneration, T5TokenizerFast

        specials = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
        pieces = [(f"▁w{i}", -1.0 - i / 1e5) for i in range(250_000 - len(specials))]
        order = range(99, -1, -1) if sentinels_descending else range(100)
        vocab = specials + pieces + [(f"<extra_id_{i}>", 0.0) for i in order]
        tok = Tokenizer(models.Unigram(vocab, unk_id=2))
        tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
        tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
        tok.post_processor = processors.TemplateProcessing(single="$A </s>", pair="$A </s> $B </s>",
                                                           special_tokens=[("</s>", 1)])
        fast = T5TokenizerFast(tokenizer_object=tok, eos_token="</s>", unk_token="<unk>", pad_token="<pad>",
                               extra_ids=0)
        fast.save_pretrained(tmp)
        torch.manual_seed(seed)
        config = MT5Config(vocab_size=len(vocab) + VOCAB_PADDING, d_model=8, d_kv=4, d_ff=16, num_layers=1,
                           num_decoder_layers=1, num_heads=2, feed_forward_proj="gated-gelu",
                           tie_word_embeddings=False, pad_token_id=0, eos_token_id=1, decoder_start_token_id=0)
        MT5ForConditionalGeneration(config).save_pretrained(tmp)

    return cached_build(out_dir, "metricx-mt5-sized", build)
