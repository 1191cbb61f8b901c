"""Tiny random-weight COMET checkpoints and their XLM-R encoder, laid out like the real releases."""

from __future__ import annotations

import tempfile
from pathlib import Path

from mteval.testing._build import SEED, cached_build, quiet, save_fast_tokenizer
from mteval.testing.tiny_spm import sentencepiece_file

CHECKPOINT = Path("checkpoints") / "model.ckpt"
# Shared by both heads, copied from the hparams.yaml of Unbabel/wmt22-comet-da and
# Unbabel/wmt22-cometkiwi-da except for the sizes. sparsemax layer mixing is what
# both real checkpoints use (and exercises the `entmax` dependency).
_COMMON = dict(
    encoder_model="XLM-RoBERTa",
    layer_transformation="sparsemax",
    layer_norm=False,
    hidden_sizes=[16],
    activations="Tanh",
    dropout=0.1,
    nr_frozen_epochs=0.3,
    keep_embeddings_frozen=True,
    batch_size=4,
)


def build_xlmr_encoder(out_dir: Path, *, spm_dir: Path | None = None, seed: int = SEED, xl: bool = False) -> Path:
    """Build a tiny `XLMRobertaModel` with a fast XLM-R tokenizer, loadable by COMET's XLM-R encoder.

    COMET calls `XLMRobertaTokenizerFast.from_pretrained(dir)` and
    `XLMRobertaModel.from_pretrained(dir, add_pooling_layer=False)` (or builds from
    `XLMRobertaConfig.from_pretrained(dir)` when the checkpoint carries the weights),
    so the directory holds `tokenizer.json` and a pooler-free model. The 514
    positions match xlm-roberta-large (512 tokens plus the padding offset). ``xl`` builds the
    ``XLMRobertaXLModel`` architecture instead (facebook/xlm-roberta-xl, under XCOMET-XL and -XXL).
    """

    def build(tmp: Path) -> None:
        import torch
        import transformers
        from transformers import XLMRobertaTokenizer, XLMRobertaTokenizerFast

        arch = "XLMRobertaXL" if xl else "XLMRoberta"
        config_cls, model_cls = getattr(transformers, f"{arch}Config"), getattr(transformers, f"{arch}Model")

        with tempfile.TemporaryDirectory() as scratch:
            slow = XLMRobertaTokenizer(str(sentencepiece_file(spm_dir, Path(scratch))), model_max_length=512)
            save_fast_tokenizer(slow, XLMRobertaTokenizerFast, tmp)
        torch.manual_seed(seed)
        config = config_cls(
            vocab_size=len(slow),
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=64,
            max_position_embeddings=514,
            type_vocab_size=1,
            pad_token_id=slow.pad_token_id,
            bos_token_id=slow.bos_token_id,
            eos_token_id=slow.eos_token_id,
        )
        model_cls(config, add_pooling_layer=False).save_pretrained(tmp)

    return cached_build(out_dir, "xlmr_xl" if xl else "xlmr", build)


def build_comet(out_dir: Path, encoder_dir: Path, *, seed: int = SEED) -> Path:
    """Build a tiny reference-based `RegressionMetric` (like Unbabel/wmt22-comet-da).

    Args:
        out_dir: Model directory to create: `hparams.yaml` and `checkpoints/model.ckpt`.
        encoder_dir: A `build_xlmr_encoder` directory (built with defaults if missing).
            Its absolute path is stored as `pretrained_model`, which COMET reloads
            the tokenizer and config from, so it must stay where it is.
        seed: Torch seed for the weights.

    Returns:
        `out_dir`; load with `comet.load_from_checkpoint(str(out_dir / CHECKPOINT))`.
    """

    def make(pretrained_model: str):
        from comet.models import RegressionMetric

        return RegressionMetric(pretrained_model=pretrained_model, layer="mix", pool="avg", **_COMMON)

    return _build_checkpoint(out_dir, encoder_dir, "comet", make, seed)


def build_referenceless_comet(out_dir: Path, encoder_dir: Path, *, seed: int = SEED) -> Path:
    """Build a tiny `ReferencelessRegression` (class_identifier ``referenceless_regression_metric``, like
    Unbabel/wmt20-comet-qe-da and wmt21-comet-qe-mqm): a `RegressionMetric` subclass that embeds only
    "src" and "mt". Arguments and layout as for `build_comet`.
    """

    def make(pretrained_model: str):
        from comet.models import ReferencelessRegression

        return ReferencelessRegression(pretrained_model=pretrained_model, layer="mix", pool="avg", **_COMMON)

    return _build_checkpoint(out_dir, encoder_dir, "comet-qe-regression", make, seed)


def build_cometkiwi(out_dir: Path, encoder_dir: Path, *, seed: int = SEED) -> Path:
    """Build a tiny reference-free `UnifiedMetric` on `[mt, src]` (like Unbabel/wmt22-cometkiwi-da).

    It scores samples that have only "src" and "mt". Arguments and layout as for
    `build_comet`.
    """

    def make(pretrained_model: str):
        from comet.models import UnifiedMetric

        return UnifiedMetric(
            pretrained_model=pretrained_model,
            sent_layer="mix",
            word_layer=2,  # the tiny encoder's top layer (24 in the real model)
            input_segments=["mt", "src"],
            word_level_training=False,
            **_COMMON,
        )

    return _build_checkpoint(out_dir, encoder_dir, "cometkiwi", make, seed)


def _build_checkpoint(out_dir: Path, encoder_dir: Path, name: str, make, seed: int) -> Path:
    """Instantiate a COMET model over the tiny encoder and save it as COMET saves its releases."""
    encoder_dir = build_xlmr_encoder(encoder_dir).resolve()  # a no-op when it is already built

    def build(tmp: Path) -> None:
        import pytorch_lightning as pl
        import torch
        from pytorch_lightning.core.saving import save_hparams_to_yaml

        # Quieten again: Lightning resets its log level when first imported, and comet
        # (imported by `make`) calls logging.basicConfig(level=INFO).
        with quiet():
            torch.manual_seed(seed)
            model = make(str(encoder_dir))
            trainer = pl.Trainer(
                accelerator="cpu",
                devices=1,
                logger=False,
                enable_checkpointing=False,
                enable_progress_bar=False,
                enable_model_summary=False,
                default_root_dir=tmp,
            )
            trainer.strategy.connect(model)
            trainer.save_checkpoint(tmp / CHECKPOINT, weights_only=True)
        # comet.load_from_checkpoint reads class_identifier from ../hparams.yaml.
        save_hparams_to_yaml(tmp / "hparams.yaml", dict(model.hparams), use_omegaconf=False)

    return cached_build(out_dir, name, build)
