"""A tiny random-weight XCOMET checkpoint on a tiny XLM-R-XL encoder, laid out like Unbabel/XCOMET-XL."""

from __future__ import annotations

from pathlib import Path

from mteval.testing._build import SEED
from mteval.testing.tiny_comet import _build_checkpoint, build_xlmr_encoder

#: The keys of Unbabel/XCOMET-XL's hparams.yaml (model card huggingface.co/Unbabel/XCOMET-XL: unbabel-comet
#: >= 2.2.0; the file as copied in github.com/NL2G/xCOMET-lite, xcomet/hparams.yaml: xcomet_metric on
#: facebook/xlm-roberta-xl, word_layer 36, hidden_sizes [2560, 1280]); the tiny checkpoint writes exactly these.
XCOMET_XL_HPARAMS = (
    "activations", "batch_size", "class_identifier", "cross_entropy_weights", "dropout", "encoder_learning_rate",
    "encoder_model", "error_labels", "final_activation", "hidden_sizes", "input_segments", "keep_embeddings_frozen",
    "layer", "layer_norm", "layer_transformation", "layerwise_decay", "learning_rate", "load_pretrained_weights",
    "loss", "loss_lambda", "nr_frozen_epochs", "optimizer", "pool", "pretrained_model", "sent_layer", "train_data",
    "validation_data", "warmup_steps", "word_layer", "word_level_training")


def build_xcomet(out_dir: Path, encoder_dir: Path, *, spm_dir: Path | None = None, seed: int = SEED) -> Path:
    """Build a tiny ``XCOMETMetric`` (class_identifier ``xcomet_metric``) with XCOMET-XL's settings
    except for the sizes: three severities (minor, major, critical), word-level tagging on the
    top layer, the [mt, src, ref] inputs. Arguments and layout as for ``tiny_comet.build_comet``."""
    encoder_dir = build_xlmr_encoder(encoder_dir, spm_dir=spm_dir, xl=True).resolve()  # comet's XLM-RoBERTa-XL

    def make(pretrained_model: str):
        import torch
        from comet.models import XCOMETMetric

        model = XCOMETMetric(
            encoder_model="XLM-RoBERTa-XL", pretrained_model=pretrained_model, sent_layer="mix",
            layer_transformation="sparsemax", layer_norm=False, word_layer=2,  # the tiny encoder's top layer (36)
            hidden_sizes=[16], activations="Tanh", dropout=0.1, nr_frozen_epochs=0.3, keep_embeddings_frozen=True,
            batch_size=4)
        # Random tagging weights mark every token alike; a bias that favours the error labels a little
        # lets the hidden states decide, so the tiny model marks some spans of each severity.
        with torch.no_grad():
            model.hidden2tag.bias.copy_(torch.tensor([0.0, 0.05, 0.05, 0.05]))
        # The real hparams.yaml carries these two keys as well (read by nothing at predict time).
        model.hparams["layer"] = "mix"
        model.hparams["pool"] = "avg"
        del model.hparams["local_files_only"]  # a loading option, not in the real file
        return model

    return _build_checkpoint(out_dir, encoder_dir, "xcomet", make, seed)
