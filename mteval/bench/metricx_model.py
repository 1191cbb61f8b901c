"""A random-weight MetricX-24 hybrid-large-sized model (mT5-large, 250,112-row vocabulary) for the MetricX bench."""
from __future__ import annotations

from pathlib import Path

from mteval.bench.models import build_bench_spm, reference_files, source_file
from mteval.bench.common import lines_at, load_inputs
from mteval.metrics.metricx import input_text
from mteval.metrics.mt5_tokenizer import MT5_TOKENIZER_VOCAB
from mteval.testing._build import SEED, cached_build
from mteval.testing.tiny_metricx import VOCAB_PADDING

#: google/metricx-24-hybrid-large-v2p6 is mT5-large fine-tuned as a regression model (its model card:
#: "initialized with mT5"; the Large size "for best speed"); mT5-large's config.json
#: (huggingface.co/google/mt5-large): 24 encoder and 24 decoder layers, d_model 1024, d_ff 2816 gated-GELU,
#: 16 heads of 64, vocabulary 250,112, untied output layer. 1.2B weights, 4.9 GB in float32.
MT5_LARGE = dict(d_model=1024, d_kv=64, d_ff=2816, num_layers=24, num_decoder_layers=24, num_heads=16,
                 feed_forward_proj="gated-gelu", tie_word_embeddings=False, relative_attention_num_buckets=32,
                 relative_attention_max_distance=128, layer_norm_epsilon=1e-6, vocab_size=MT5_TOKENIZER_VOCAB + VOCAB_PADDING,
                 pad_token_id=0, eos_token_id=1, decoder_start_token_id=0)
#: Random weights put the readout logit anywhere; the build aims the readout row so that scores of WMT22
#: inputs centre on 12.5 with this spread, inside MetricX's [0, 25] (clipped scores would hide any drift).
TARGET_MEAN, TARGET_STD = 12.5, 4.0


def build_mt5_bench_tokenizer(out_dir: Path, spm_dir: Path) -> Path:
    """An mT5-shaped fast tokenizer: pad 0, eos 1, unk 2, the bench SentencePiece's pieces (trained on WMT22
    en-zh, so texts split about as a real vocabulary splits them), unused filler pieces up to 250,000 entries,
    then the 100 sentinels numbered downwards as mT5 numbers them (``<extra_id_10>`` = 250089)."""

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

    return cached_build(out_dir, "mt5-bench-tokenizer", build)


def build_metricx_large(root: Path, *, seed: int = SEED, calibration_segments: int = 8) -> Path:
    """The MetricX-24 hybrid-large-sized checkpoint (tokenizer in the same directory) under ``root``, built once.

    After random initialisation the readout row of the output layer is set from the decoder's first-step
    hidden states on ``calibration_segments`` WMT22 inputs (drawn apart from the bench's): along their
    mean (centring the scores on :data:`TARGET_MEAN`) plus their main direction of variation (spread
    :data:`TARGET_STD`), so the scores differ from input to input as a trained model's do.
    """
    root = Path(root)
    tok_dir = build_mt5_bench_tokenizer(root / "mt5-bench-tokenizer", build_bench_spm(root / "spm"))

    def build(tmp: Path) -> None:
        import torch
        from transformers import AutoTokenizer, MT5Config, MT5ForConditionalGeneration

        tok = AutoTokenizer.from_pretrained(tok_dir)
        torch.manual_seed(seed)
        model = MT5ForConditionalGeneration(MT5Config(**MT5_LARGE)).eval()
        idx = load_inputs(calibration_segments, seed=seed + 7)
        texts = [input_text(s, h, r) for s, h, r in zip(lines_at(source_file(), idx), lines_at(reference_files()[1], idx),
                                                        lines_at(reference_files()[0], idx), strict=True)]
        batch = tok(texts, padding=True, return_tensors="pt")
        with torch.inference_mode():
            out = model(**batch, decoder_input_ids=torch.zeros((len(texts), 1), dtype=torch.long),
                        output_hidden_states=True)
        hidden = out.decoder_hidden_states[-1][:, 0].double()  # what the output layer reads (untied: no rescale)
        mean = hidden.mean(0)
        centred = hidden - mean
        main = torch.linalg.svd(centred, full_matrices=False).Vh[0]
        main = main - (main @ mean) / (mean @ mean) * mean  # orthogonal to the mean: it moves no average
        spread = (centred @ main).std()
        row = TARGET_MEAN * mean / (mean @ mean) + TARGET_STD / spread * main
        with torch.no_grad():
            model.lm_head.weight[tok.convert_tokens_to_ids("<extra_id_10>")] = row.float()
        model.config.architectures = ["MT5ForRegression"]
        model.save_pretrained(tmp)
        tok.save_pretrained(tmp)

    return cached_build(root / "metricx-24-hybrid-large-sized", "metricx-24-hybrid-large-sized", build)
