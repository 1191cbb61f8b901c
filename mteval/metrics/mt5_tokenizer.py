"""MetricX's mT5 tokenizer as Google's predict.py loads it (fast, converted from spiece.model), and its readout id check."""
from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from typing import Any

from mteval import validate

#: mT5's model vocabulary (250,100 SentencePiece entries, the 100 sentinels among them, padded to 250,112)
#: and the logit MetricX reads as the score: ``predictions = lm_logits[:, 0, 250089]``, commented
#: "250089 = <extra_id_10>" (google-research/metricx, MT5ForRegression in metricx23/models.py and metricx24/models.py).
MT5_MODEL_VOCAB = 250_112
MT5_TOKENIZER_VOCAB = 250_100
MT5_READOUT_ID = 250_089


@contextlib.contextmanager
def sentencepiece_schema() -> Iterator[None]:
    """Let transformers convert a SentencePiece ``.model`` to a fast tokenizer under protobuf 4.

    transformers' converter parses the ``.model`` protobuf with the schema that ships inside
    ``sentencepiece``, which needs protobuf>=5, while unbabel-comet pins protobuf<5. transformers
    also ships a protobuf-4 schema (``sentencepiece_model_pb2_new``), the same message; where the
    first cannot be imported the converter is pointed at it for the duration. The conversion is the
    one ``AutoTokenizer`` runs for google/mt5-xl, which ships ``spiece.model`` and no ``tokenizer.json``.
    """
    converter = importlib.import_module("transformers.convert_slow_tokenizer")  # the package re-exports a function
    try:
        converter.import_protobuf()
    except ImportError:
        from transformers.utils import sentencepiece_model_pb2_new

        original = converter.import_protobuf
        converter.import_protobuf = lambda *_args: sentencepiece_model_pb2_new
        try:
            yield
        finally:
            converter.import_protobuf = original
        return
    yield


def load_fast(tokenizer: str, revision: str | None, *, local_files_only: bool) -> Any:
    """``AutoTokenizer.from_pretrained(tokenizer)`` with no other option, as metricx24/predict.py calls it:
    for an mT5 vocabulary, the fast ``T5TokenizerFast``. (mteval read MetricX with the slow SentencePiece
    tokenizer before; on an 8k vocabulary trained on WMT22, 4 of 4,074 inputs were split differently.)"""
    from transformers import AutoTokenizer

    with sentencepiece_schema():
        return AutoTokenizer.from_pretrained(tokenizer, revision=revision, local_files_only=local_files_only)


def check_readout(token: str, token_id: int, *, tokenizer_size: int, model_vocab: int | None, tokenizer: str) -> None:
    """Refuse a readout that is not MetricX's logit 250089 wherever the vocabulary is mT5's (a tokenizer of
    250,100 entries or a model of 250,112 rows): the reference reads that id whatever the tokenizer says,
    so a tokenizer that numbers its sentinels differently would read another logit without any error."""
    mt5 = tokenizer_size == MT5_TOKENIZER_VOCAB or model_vocab == MT5_MODEL_VOCAB
    if mt5 and token_id != MT5_READOUT_ID:
        raise validate.SettingError(
            "readout_token", token, f"has id {token_id} in tokenizer {tokenizer}, but MetricX reads logit "
            f"{MT5_READOUT_ID} of mT5's vocabulary (<extra_id_10> in google/mt5-xl); use readout_token "
            "<extra_id_10> with the tokenizer google/mt5-xl")
