"""Tiny translation models that end their sentences: beam hypotheses finish at different steps.

A random-weight tiny model almost never emits end-of-sentence, so every beam runs to the length
limit and how a backend stops beam search never shows (issue 20). These models are a built tiny
model (Marian, NLLB or M2M100 layout, tokenizer and files unchanged) with three changes:

* the output projection is untied from the embeddings and drawn afresh, peaked enough that the
  next token is not a near tie (a tied projection makes the pre-norm layouts repeat their input);
* the decoder's cross-attention outputs are scaled up, so the output depends on the source;
* the end-of-sentence row of the projection is fitted so that its logit grows with the position
  (``slope`` per token, zero at ``onset``) plus whatever the context adds: hypotheses end early
  with a poor score or later with a better one, so the stopping rules give different outputs.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from mteval.testing._build import SEED, cached_build

#: Per layout, chosen on the first 30 WMT22 en-zh sentences (6 beams, length penalty 1): 16-24
#: distinct outputs of 16-30 tokens, and transformers' early_stopping true and false disagree on
#: 9-19 of them (a scan of cross 30, peak 2-3, slope 0.3-0.6, onset 2-4; the counts swing with it).
EOS_SHAPES = {
    "marian": {"cross": 30.0, "peak": 3.0, "slope": 0.4, "onset": 2.0},
    "nllb": {"cross": 30.0, "peak": 3.0, "slope": 0.6, "onset": 2.0},
    "m2m100": {"cross": 30.0, "peak": 2.0, "slope": 0.3, "onset": 2.0},
}
# What the decoder states are fitted on: random target prefixes of this length under seed sources.
_FIT_LENGTH = 48
_FIT_SOURCES = [
    "The results show that the method improves translation quality on all benchmarks.",
    "We present a new dataset. It has two parts.",
    "Large language models can translate scientific abstracts.",
    "Model scale matters, but so does the data it is trained on.",
    "This is a short one.",
    "Our approach outperforms the baseline by a wide margin while using fewer parameters and less data.",
    "Thank you!",
    "Where is the nearest station, and when does the last train leave tonight?",
]


def build_eos_emitting(out_dir: Path, base_dir: Path, *, layout: str, early_stopping: bool | str,
                       seed: int = SEED, **shape: float) -> Path:
    """Build an end-of-sentence-emitting copy of the tiny seq2seq model in ``base_dir``.

    Args:
        out_dir: Model directory to create.
        base_dir: A built tiny Marian, NLLB or M2M100 model (its tokenizer files are copied).
        layout: ``marian``, ``nllb`` or ``m2m100``: picks the shape in EOS_SHAPES.
        early_stopping: Written into the generation config as the real model ships it
            (opus-mt and NLLB: false, transformers' default; m2m100_418M: true).
        seed: Torch seed for the new output projection and the fitting prefixes.
        shape: ``cross``, ``peak``, ``slope``, ``onset`` overriding EOS_SHAPES (see the module docstring).
    """
    cross, peak, slope, onset = ({**EOS_SHAPES[layout], **shape}[k] for k in ("cross", "peak", "slope", "onset"))

    def build(tmp: Path) -> None:
        import torch
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

        shutil.copytree(base_dir, tmp, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".tiny-model-complete"))
        # Loaded as saved (tied): loading it untied would leave the embeddings to random initialisation.
        model = AutoModelForSeq2SeqLM.from_pretrained(base_dir).eval()
        config = model.config
        tokenizer = AutoTokenizer.from_pretrained(base_dir)
        generator = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            config.tie_word_embeddings = False
            # Untied, transformers ties no embedding to ``shared`` on loading either: each is saved in full.
            for part in (model.model.encoder, model.model.decoder):
                part.embed_tokens.weight = torch.nn.Parameter(model.model.shared.weight.clone())
            head = model.get_output_embeddings()
            head.weight = torch.nn.Parameter(torch.randn(head.weight.shape, generator=generator)
                                             * peak / config.d_model ** 0.5)
            for layer in model.model.decoder.layers:
                layer.encoder_attn.out_proj.weight *= cross
            sources = tokenizer(_FIT_SOURCES, return_tensors="pt", padding=True)
            targets = torch.randint(10, config.vocab_size - 10, (len(_FIT_SOURCES), _FIT_LENGTH), generator=generator)
            targets[:, 0] = config.decoder_start_token_id
            states = model(**sources, decoder_input_ids=targets, output_hidden_states=True).decoder_hidden_states[-1]
            states = states.reshape(-1, config.d_model)
            positions = torch.arange(_FIT_LENGTH, dtype=torch.float32).repeat(len(_FIT_SOURCES))
            # least squares: the EOS logit h . w ~ slope * (position - onset)
            row = torch.linalg.lstsq(states, (slope * (positions - onset))[:, None]).solution[:, 0]
            row = torch.round(row * 1000) / 1000  # the solver's last bits vary from run to run
            head.weight[config.eos_token_id] = row
        # beam search models, as the real ones are (opus-mt 4-6 beams, m2m100_418M 5)
        model.generation_config.update(num_beams=6, early_stopping=early_stopping)
        model.save_pretrained(tmp)

    return cached_build(out_dir, f"eos-emitting {layout}", build)
