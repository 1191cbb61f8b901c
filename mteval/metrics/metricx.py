"""MetricX-24 (Juraska et al., WMT 2024) through transformers' mT5: an error score in [0, 25], lower is better.

The contract below comes from the google-research/metricx repository (README, metricx24/predict.py,
the MT5ForRegression class in models.py) and the model card of google/metricx-24-hybrid-large-v2p6;
it is written here against plain ``MT5ForConditionalGeneration``, whose weights have the same names.
"""
from __future__ import annotations

import logging
import os
from importlib.metadata import version
from typing import Any

from mteval import validate
from mteval.errors import ConfigError
from mteval.metrics.base import MAX_CHARS, Metric
from mteval.metrics.comet_embed import length_batches
from mteval.hub.availability import ModelRef, is_hub_id
from mteval.hub.device import resolve_device
from mteval.hub.loading import load_or_explain
from mteval.metrics.mt5_tokenizer import check_readout, load_fast
from mteval.signature import Signature, model_ref, reference_fields
from mteval.types import MetricResult
from mteval.hub.identity import model_identity
from mteval.metrics.precision import resolve_precision

log = logging.getLogger(__name__)

#: Precision settings (COMET's spellings) -> canonical; ``auto`` is resolved by :meth:`MetricX.resolved_precision`.
#: No fp16: T5's feed-forward activations overflow float16 (transformers clamps them only in training), and
#: no int8 (issue 21 measures int8 for the COMET encoders only).
PRECISIONS = {"auto": "auto", "32": "32", "32-true": "32", "float32": "32", "bf16": "bf16", "bf16-mixed": "bf16",
              "bfloat16": "bf16"}
#: MetricX clips its regression output to the MQM-like range (README: "clipped at 0 and 25").
LOWEST, HIGHEST = 0.0, 25.0


def input_text(src: str, hyp: str, ref: str | None) -> str:
    """The model input: ``source: .. candidate: ..`` plus `` reference: ..`` in reference mode
    (metricx24/predict.py; the QE input has no reference part at all, not an empty one)."""
    text = f"source: {src} candidate: {hyp}"
    return text if ref is None else f"{text} reference: {ref}"


class MetricX(Metric):
    """MetricX-24 hybrid: reference-based (``reference_free: false``) or QE (``true``) with one model.

    Args:
        model: Hub id or local directory of the regression checkpoint (``config.json`` + weights).
        revision: its Hub revision.
        tokenizer: where the mT5 tokenizer comes from; the checkpoints ship none, and the README loads
            ``google/mt5-xl`` (all mT5 sizes share one SentencePiece vocabulary).
        tokenizer_revision: its Hub revision.
        name: the metric name in results (``metricx`` or ``metricx_qe``).
        reference_free: QE mode: score (source, hypothesis) only, every segment.
        max_input_tokens: the input limit the models were trained with (1536 for MetricX-24), counted
            with the tokenizer's EOS, which is then removed as in predict.py.
        readout_token: the vocabulary entry whose logit at the first decoder step is the score.
        batch_size: inputs per forward pass, formed after sorting by token length (scores come back in input order).
        device: ``auto`` (a GPU when present), ``cpu``, ``cuda``, ``cuda:N`` or ``mps``.
        precision: ``auto``, ``32`` or ``bf16`` (the whole model in bfloat16, as predict.py runs Google's
            ``-bfloat16`` releases). ``auto``: bf16 for a ``-bfloat16`` release (as the reference computes
            it); otherwise COMET's rule (:func:`~mteval.metrics.precision.resolve_precision`): bf16 on a CPU
            with AVX-512 BF16/AMX or a bf16 GPU, else 32. The signature names the resolved one.
        cpu_threads: torch intra-op threads on CPU (None leaves torch's default).
        multi_ref: with several references, ``mean`` of per-reference scores or ``first`` only.
        max_chars: the longest text (characters) scored; a longer one is refused before translating.
    """

    higher_is_better = False
    needs_src = True

    def __init__(
        self,
        *,
        model: str = "google/metricx-24-hybrid-large-v2p6",
        revision: str | None = None,
        tokenizer: str = "google/mt5-xl",
        tokenizer_revision: str | None = None,
        name: str = "metricx",
        reference_free: bool = False,
        max_input_tokens: int = 1536,
        readout_token: str = "<extra_id_10>",
        batch_size: int = 8,
        device: str = "auto",
        precision: str = "auto",
        cpu_threads: int | None = None,
        multi_ref: str = "mean",
        max_chars: int = MAX_CHARS,
    ):
        self.model_id = validate.text("model", model)
        self.revision = validate.text("revision", revision, optional=True)
        self.tokenizer_id = validate.text("tokenizer", tokenizer)
        self.tokenizer_revision = validate.text("tokenizer_revision", tokenizer_revision, optional=True)
        self.name = validate.text("name", name)
        self.reference_free = validate.boolean("reference_free", reference_free)
        self.needs_ref = not reference_free
        self.max_input_tokens = validate.integer("max_input_tokens", max_input_tokens, minimum=2)
        self.readout_token = validate.text("readout_token", readout_token)
        self.batch_size = validate.integer("batch_size", batch_size, minimum=1)
        self.device = validate.device("device", device)
        self.precision = PRECISIONS[validate.choice("precision", str(precision), tuple(PRECISIONS))]
        self.cpu_threads = validate.integer("cpu_threads", cpu_threads, minimum=1, optional=True)
        self.multi_ref = validate.choice("multi_ref", multi_ref, ("mean", "first"))
        self.max_chars = validate.integer("max_chars", max_chars, minimum=1)
        self._tokenizer: Any = None
        self._model: Any = None
        self._readout: int | None = None
        self._released_dtype: str | None = None
        self._identity: tuple[str, str] | None = None

    # -- files -------------------------------------------------------------------------------------
    def required_models(self) -> list[ModelRef]:
        """The weights repository and the tokenizer repository (MetricX loads mT5-XL's tokenizer only)."""
        out = [ModelRef(self.model_id, self.revision, "metricx", f"metrics.{self.name}")]
        out.append(ModelRef(self.tokenizer_id, self.tokenizer_revision, "tokenizer", f"metrics.{self.name}.tokenizer",
                            "spiece.model"))  # converted to a fast one
        return out

    def preflight(self) -> None:
        """Load the tokenizer (seconds) so a missing model or tokenizer fails before any translation."""
        self.load_tokenizer()
        if is_hub_id(self.model_id):
            from huggingface_hub import hf_hub_download

            offline = os.environ.get("HF_HUB_OFFLINE") == "1"
            load_or_explain(self.model_id, lambda: hf_hub_download(
                self.model_id, "config.json", revision=self.revision, local_files_only=offline))
        self.resolved_precision()  # a bf16 this device lacks is refused before any translation

    def load_tokenizer(self) -> Any:
        """The tokenizer as Google's metricx24/predict.py loads it (``AutoTokenizer``: the fast mT5 one), its
        readout id looked up and checked against the reference's hard-coded 250089 (:func:`check_readout`)."""
        if self._tokenizer is None:
            tok = load_or_explain(self.tokenizer_id, lambda: load_fast(
                self.tokenizer_id, self.tokenizer_revision, local_files_only=os.environ.get("HF_HUB_OFFLINE") == "1"))
            readout = tok.convert_tokens_to_ids(self.readout_token)
            if readout is None or readout == tok.unk_token_id:
                raise validate.SettingError("readout_token", self.readout_token,
                                            f"is not in the vocabulary of tokenizer {self.tokenizer_id}")
            check_readout(self.readout_token, readout, tokenizer_size=len(tok), model_vocab=None,
                          tokenizer=self.tokenizer_id)
            self._tokenizer, self._readout = tok, readout
        return self._tokenizer

    def resolved_precision(self) -> str:
        """``32`` or ``bf16`` here: the setting (a bf16 the device lacks refused, naming the setting), or for
        ``auto`` bf16 for a ``-bfloat16`` release, else the best the device runs natively (no fp16)."""
        device = self._torch_device()
        kind = device.partition(":")[0]
        if self.precision == "32" or kind == "mps":  # MPS: as set (auto stays 32 unless the release is bf16)
            return "bf16" if self.precision == "bf16" or (self.precision == "auto" and self._released_bf16()) else "32"
        if self.precision == "auto" and self._released_bf16():
            return "bf16"
        try:
            found = resolve_precision("auto" if self.precision == "auto" else "bf16-mixed", kind)
        except ConfigError:
            raise ConfigError(f"metrics.{self.name}.precision=bf16: {device} has no native bfloat16 (emulated "
                              f"it runs slower than fp32); use precision=auto or 32") from None
        return "bf16" if found == "bf16-mixed" else "32"

    def _released_bf16(self) -> bool:
        """Whether the checkpoint was released in bfloat16. Google publishes each MetricX-24 in float32 and
        as a ``-bfloat16`` copy (google/metricx-24-hybrid-large-v2p6-bfloat16), whose config.json says
        ``bfloat16``; the reference computes in the dtype it loads (issue 20)."""
        if self._released_dtype is None:
            from transformers import AutoConfig

            config = load_or_explain(self.model_id, lambda: AutoConfig.from_pretrained(
                self.model_id, revision=self.revision, local_files_only=os.environ.get("HF_HUB_OFFLINE") == "1"))
            stored = str(getattr(config, "dtype", None) or getattr(config, "torch_dtype", None) or "")
            bf16 = stored.removeprefix("torch.") == "bfloat16" or self.model_id.rstrip("/").endswith("-bfloat16")
            self._released_dtype = "bfloat16" if bf16 else "float32"
        return self._released_dtype == "bfloat16"

    def load(self) -> Any:
        """The mT5 weights of the regression model, on the chosen device and dtype."""
        if self._model is None:
            import torch
            from transformers import MT5ForConditionalGeneration

            self.load_tokenizer()
            dtype = torch.bfloat16 if self.resolved_precision() == "bf16" else torch.float32
            model, info = load_or_explain(self.model_id, lambda: MT5ForConditionalGeneration.from_pretrained(
                self.model_id, revision=self.revision, dtype=dtype,
                local_files_only=os.environ.get("HF_HUB_OFFLINE") == "1", output_loading_info=True))
            # MT5ForRegression and MT5ForConditionalGeneration name their weights alike; anything
            # missing (bar the tied embedding copies) means this is not a MetricX checkpoint.
            missing = [k for k in info["missing_keys"] if not k.endswith("embed_tokens.weight")]
            if missing:
                raise validate.SettingError("model", self.model_id, f"is not an mT5 regression checkpoint: "
                                                                    f"missing weights {missing[:3]}")
            if self._readout >= model.config.vocab_size:
                raise validate.SettingError("readout_token", self.readout_token,
                                            f"has id {self._readout}, outside the model's vocabulary")
            check_readout(self.readout_token, self._readout, tokenizer_size=len(self._tokenizer),
                          model_vocab=model.config.vocab_size, tokenizer=self.tokenizer_id)
            if dtype == torch.bfloat16 and not self._released_bf16():
                # An fp32 release run in bf16 (mteval's choice, not Google's): the output layer reads the bf16
                # hidden state in fp32, so the score is not rounded to bf16 (1/16 steps between 8 and 16; on
                # the hybrid-large-sized bench that rounding was most of the per-segment drift, issue 21).
                # A -bfloat16 release keeps its bf16 output layer, as predict.py computes it.
                model.lm_head.float().register_forward_pre_hook(lambda _layer, args: tuple(a.float() for a in args))
            self._model = model.to(self._torch_device()).eval()
        return self._model

    def _torch_device(self) -> str:
        return resolve_device(self.device, setting=f"metrics.{self.name}.device")

    # -- inputs ------------------------------------------------------------------------------------
    def _inputs(self, hyps: list[str], refs: list[list[str]], srcs: list[str], k: int) -> list[str]:
        """Model inputs against reference ``k`` (QE: none)."""
        return [input_text(s, h, None if self.reference_free else r[k])
                for s, h, r in zip(srcs, hyps, refs, strict=True)]

    def measure_inputs(self, hyps, refs, srcs):
        """Tokens of each joined input, EOS included, as predict.py truncates them (at max_input_tokens)."""
        tok = self.load_tokenizer()
        n_refs = 1 if self.reference_free or self.multi_ref == "first" else max((len(r) for r in refs), default=1)
        lengths = [0] * len(hyps)
        for k in range(max(1, n_refs)):
            idx = list(range(len(hyps))) if self.reference_free else [i for i, r in enumerate(refs) if len(r) > k]
            if not idx:
                continue
            texts = self._inputs([hyps[i] for i in idx], [refs[i] for i in idx], [srcs[i] for i in idx], k)
            for i, ids in zip(idx, tok(texts)["input_ids"], strict=True):
                lengths[i] = max(lengths[i], len(ids))
        return self.max_input_tokens, lengths

    # -- scoring -----------------------------------------------------------------------------------
    def predict(self, texts: list[str]) -> list[float]:
        """Scores of joined inputs: truncate at the limit, drop the EOS (the models were trained without
        it), read the readout logit at decoder step 0 (decoder start = pad id 0) and clip to [0, 25]."""
        import torch

        model = self.load()
        tok = self._tokenizer
        if self.cpu_threads and self._torch_device() == "cpu":
            torch.set_num_threads(self.cpu_threads)
        ids = [x[:-1] for x in tok(texts, max_length=self.max_input_tokens, truncation=True)["input_ids"]]
        out = [0.0] * len(ids)
        device = self._torch_device()
        with torch.inference_mode():
            # Longest first, so each batch pads only to its own longest input and a batch too big for
            # memory fails at once; each score is written back at its input's position.
            for batch in length_batches([-len(x) for x in ids], self.batch_size):
                width = max(1, max(len(ids[i]) for i in batch))
                input_ids = torch.full((len(batch), width), tok.pad_token_id, dtype=torch.long)
                mask = torch.zeros((len(batch), width), dtype=torch.long)
                for row, i in enumerate(batch):
                    input_ids[row, : len(ids[i])] = torch.tensor(ids[i], dtype=torch.long)
                    mask[row, : len(ids[i])] = 1
                start_ids = torch.zeros((len(batch), 1), dtype=torch.long)
                logits = model(input_ids=input_ids.to(device), attention_mask=mask.to(device),
                               decoder_input_ids=start_ids.to(device)).logits
                scores = logits[:, 0, self._readout].float().clamp(LOWEST, HIGHEST)
                for i, s in zip(batch, scores.tolist(), strict=True):
                    out[i] = float(s)
        return out

    def signature(self, n_refs: int) -> str:
        """Names the model and tokenizer by content (Hub commit or digest), so that weights swapped
        at the same path never pass for the ones scored before (issue 10, item 5)."""
        if self._identity is None:

            self._identity = (model_ref(self.model_id, model_identity(self.model_id, self.revision)),
                              model_ref(self.tokenizer_id, model_identity(self.tokenizer_id, self.tokenizer_revision)))
        refs = reference_fields(n_refs, self.multi_ref, qe=self.reference_free)
        return str(Signature.of(model=self._identity[0], tokenizer=self._identity[1], **refs,
                                precision=self.resolved_precision(), device=self._torch_device(), transformers=version("transformers")))

    def _score(self, hyps, refs, srcs, *, tgt_lang):
        if self.reference_free:
            segs = self.predict(self._inputs(hyps, refs, srcs, 0))
            return MetricResult(self.name, sum(segs) / len(segs), self.signature(0), segment_scores=segs)
        n_refs = max(len(r) for r in refs)
        use = 1 if self.multi_ref == "first" else n_refs
        sums, counts = [0.0] * len(hyps), [0] * len(hyps)
        for k in range(use):
            idx = [i for i, r in enumerate(refs) if len(r) > k]
            scores = self.predict(self._inputs([hyps[i] for i in idx], [refs[i] for i in idx],
                                               [srcs[i] for i in idx], k))
            for i, s in zip(idx, scores, strict=True):
                sums[i] += s
                counts[i] += 1
        segs = [s / c for s, c in zip(sums, counts, strict=True)]
        return MetricResult(self.name, sum(segs) / len(segs), self.signature(n_refs), segment_scores=segs)
