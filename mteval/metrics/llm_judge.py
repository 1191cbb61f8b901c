"""An LLM judge: a chat model marks error spans (category, severity) and gives a 0-100 score per segment.

The protocol is mteval's own MQM-style one (``protocol:mteval-mqm`` in the signature, with the prompt's
name and digest and the severity weights), not GEMBA-MQM (arXiv:2310.13988) nor ESA (arXiv:2406.11580),
and its scores are never reported under those names (issue 20); docs/metrics.md ("LLM judge") says how
it differs from both. Two scores come from every parsed answer, and both are reported:

* ``weighted_errors``: minus the weighted error count, by default minor 1, major 5, critical 25 (the
  MQM weights of Freitag et al., 2021); 0 means no error. Uncapped: every error counts.
* ``overall``: the judge's own 0-100 score, given after marking the spans, not derived from them.

``primary`` picks the one that is the metric's segment and corpus score (the mean over the segments
scored, so compare and gate resample it); both are higher-is-better; the other's mean is in
``extra['judge']``. Settings stored before the rename (``primary: mqm`` / ``esa``) still rebuild.
"""
from __future__ import annotations

import hashlib
import logging
from collections import Counter
from string import Formatter
from typing import Any

from mteval import validate
from mteval.errors import ConfigError
from mteval.hub.availability import ModelRef
from mteval.metrics.base import MAX_CHARS, Metric
from mteval.metrics.judge_answer import KINDS, Annotation, Unparsable, parse_answer, placed_spans
from mteval.metrics.spans import FIELD as SPANS
from mteval.systems.hf_chat import LANG_NAMES
from mteval.hub.loading import TORCH_DTYPES
from mteval.signature import Signature, model_ref, reference_fields
from mteval.types import MetricResult
from mteval.systems.vllm_chat import VLLMChat
from mteval.systems.hf_chat import HFChat
from mteval.hub.identity import model_identity

log = logging.getLogger(__name__)

FIELDS = {"tgt_lang", "source", "translation", "reference"}
BACKENDS = ("hf", "vllm")
#: The protocol's name in the signature and scores.json: mteval's own, never GEMBA-MQM or ESA.
PROTOCOL = "mteval-mqm"
PRIMARY = ("weighted_errors", "overall")
#: Names used before issue 20, read as the new ones so that stored settings still rebuild.
LEGACY_PRIMARY = {"mqm": "weighted_errors", "esa": "overall"}


class LLMJudge(Metric):
    """Asks a chat model (HFChat or VLLMChat, greedy) to annotate each segment; scores what parses.

    An answer that does not parse is asked for once more with ``retry_reminder`` appended (naming
    what was wrong); one that still does not parse gets no score (None in segments.jsonl), is
    counted by kind in ``extra['judge']`` and leaves ``n_scored`` short. The judge refuses to
    judge the system's own model unless ``allow_self_judge`` (see :meth:`check_judged_system`).

    Args:
        model: Hub id or local directory of the judge. revision: Hub revision.
        backend: ``hf`` (transformers) or ``vllm``. name: the metric name in results.
        use_reference: put the first reference in the prompt (the template must then use
            ``{reference}``, and must not otherwise); without it the judge is reference-free.
        prompt_name: a short name for the prompt, shown in the signature with its digest.
        system_prompt: the system message. prompt_template: the user message; fields ``{tgt_lang}``,
            ``{source}``, ``{translation}``, ``{reference}`` (braces of JSON examples doubled).
        retry_reminder: appended to the prompt for the retry; ``{problem}`` says what was wrong.
        categories / severity_weights: the allowed categories, and each severity's MQM weight.
        primary: ``weighted_errors`` or ``overall``, the metric's score (see the module docstring).
        check_spans: a span must be text of the translation or the source.
        allow_self_judge: let the judge score its own model's translations (recorded, see above).
        max_new_tokens, batch_size, max_tokens, device, dtype, trust_remote_code: as for HFChat.
        max_chars: the longest text (characters) judged; a longer one is refused before translating.
    """

    needs_src = True
    higher_is_better = True

    def __init__(
        self,
        *,
        model: str,
        revision: str | None = None,
        backend: str = "hf",
        name: str = "llm_judge",
        use_reference: bool = True,
        prompt_name: str,
        system_prompt: str | None,
        prompt_template: str,
        retry_reminder: str,
        categories: list[str],
        severity_weights: dict[str, float],
        primary: str = "weighted_errors",
        check_spans: bool = True,
        allow_self_judge: bool = False,
        max_new_tokens: int = 512,
        batch_size: int = 8,
        max_tokens: int | None = 16384,
        device: str = "auto",
        dtype: str = "auto",
        trust_remote_code: bool = False,
        max_chars: int = MAX_CHARS,
    ):
        self.model_id = validate.text("model", model)
        self.model = self.model_id  # under its YAML key too, so the gate can rebuild the metric from scores.json
        self.revision = revision
        self.backend = validate.choice("backend", backend, BACKENDS)
        self.name = validate.text("name", name)
        self.use_reference = validate.boolean("use_reference", use_reference)
        self.needs_ref = self.use_reference
        self.prompt_name = validate.text("prompt_name", prompt_name)
        self.system_prompt = validate.text("system_prompt", system_prompt, optional=True)
        fields = FIELDS if use_reference else FIELDS - {"reference"}
        self.prompt_template = _template(f"metrics.{name}.prompt_template", prompt_template, fields,
                                         required=fields - {"tgt_lang"})
        self.retry_reminder = _template(f"metrics.{name}.retry_reminder", retry_reminder, {"problem"}, required=set())
        if not isinstance(categories, list) or not categories or not all(isinstance(c, str) and c.strip()
                                                                         for c in categories):
            raise validate.SettingError("categories", categories, "must be a non-empty list of names")
        self.categories = [c.strip().lower() for c in categories]
        if not isinstance(severity_weights, dict) or not severity_weights:
            raise validate.SettingError("severity_weights", severity_weights, "must map each severity to its weight")
        self.severity_weights = {str(k).strip().lower(): validate.number(f"severity_weights.{k}", v, minimum=0)
                                 for k, v in severity_weights.items()}
        if primary in LEGACY_PRIMARY:  # a config or scores.json written before the rename (issue 20)
            log.warning("metrics.%s.primary=%s is read as %s: the judge follows mteval's own MQM-style protocol, "
                        "not GEMBA-MQM or ESA", name, primary, LEGACY_PRIMARY[primary])
            primary = LEGACY_PRIMARY[primary]
        self.primary = validate.choice("primary", primary, PRIMARY)
        self.check_spans = validate.boolean("check_spans", check_spans)
        self.allow_self_judge = validate.boolean("allow_self_judge", allow_self_judge)
        self.max_new_tokens = validate.integer("max_new_tokens", max_new_tokens, minimum=1)
        self.batch_size = validate.integer("batch_size", batch_size, minimum=1)
        self.max_tokens = validate.integer("max_tokens", max_tokens, minimum=1, optional=True)
        self.max_chars = validate.integer("max_chars", max_chars, minimum=1)
        self.device = validate.device("device", device)
        self.dtype = validate.choice("dtype", dtype, TORCH_DTYPES)
        self.trust_remote_code = validate.boolean("trust_remote_code", trust_remote_code)
        #: set by :meth:`check_judged_system`: whether the judged system runs the judge's own model.
        self.judging_itself = False
        self._chat: Any = None

    # --- the judge model -------------------------------------------------------------------------
    def chat_backend(self) -> Any:
        """The chat system that answers the prompts (built once; tests put a scripted one here)."""
        if self._chat is None:
            common = dict(name=f"{self.name}-judge", model=self.model_id, revision=self.revision,
                          system_prompt=self.system_prompt, prompt_template="{text}",
                          max_new_tokens=self.max_new_tokens, num_beams=1, batch_size=self.batch_size,
                          max_tokens=self.max_tokens, dtype=self.dtype, trust_remote_code=self.trust_remote_code)
            if self.backend == "vllm":

                self._chat = VLLMChat(**common)
            else:

                self._chat = HFChat(**common, device=self.device)
            self._chat.config_path = f"metrics.{self.name}"  # where its warnings point (max_new_tokens)
        return self._chat

    def identity(self) -> str:
        """The judge model by content (Hub commit or digest of the local directory)."""

        return model_identity(self.model_id, self.revision)

    def required_models(self) -> list[ModelRef]:
        """The judge's chat model (weights and config), fetched like a system's."""
        return [ModelRef(self.model_id, self.revision, "system", f"metrics.{self.name}")]

    def check_judged_system(self, fingerprint: dict[str, Any]) -> None:
        """Refuse to judge translations made by the judge's own model (same content identity, or the
        same model name) unless ``allow_self_judge``; allowed, it is recorded in the signature and
        in ``extra['judge']['self_judge']``. LLM judges favour their own outputs (self-preference
        bias), so a self-judged score is not comparable with an independent one."""
        other = fingerprint.get("model_identity")
        # By content, or by name; a local copy of a Hub model has another identity (digest, not commit) and
        # passes unless named alike.
        same = (isinstance(other, str) and other == self.identity()) or fingerprint.get("model") == self.model_id
        if same and not self.allow_self_judge:
            raise ConfigError(
                f"metrics.{self.name}.model is the model of the system being judged ({fingerprint.get('model')}): "
                f"a judge favours its own translations; choose another metrics.{self.name}.model, or set "
                f"metrics.{self.name}.allow_self_judge=true (the signature and scores.json then say so)")
        if same:
            log.warning("%s: the judge is the judged system's own model (allow_self_judge=true); its scores are "
                        "marked self:yes and are not comparable with an independent judge's", self.name)
        self.judging_itself = bool(same)

    # --- prompts, scoring, signature -------------------------------------------------------------
    def prompt_digest(self) -> str:
        text = "\0".join([self.system_prompt or "", self.prompt_template, self.retry_reminder])
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]

    def signature(self) -> str:
        weights = ",".join(f"{k}={v:g}" for k, v in self.severity_weights.items())
        chat = self.chat_backend()
        return str(Signature.of(
            model=model_ref(self.model_id, self.identity()), backend=self.backend, protocol=PROTOCOL,
            prompt=f"{self.prompt_name}@{self.prompt_digest()}",
            **reference_fields(1, "first", qe=not self.use_reference),  # the first reference only
            score=self.primary, weights=weights, spans="checked" if self.check_spans else "free",
            self_judge=self.judging_itself, **chat.decoding().signature_fields(), **chat.run_settings()))

    def render(self, src: str, hyp: str, refs: list[str], tgt_lang: str) -> str:
        fields = {"tgt_lang": LANG_NAMES.get(tgt_lang, tgt_lang), "source": src, "translation": hyp}
        if self.use_reference:
            fields["reference"] = refs[0]  # the first reference: one annotation per segment
        return self.prompt_template.format(**fields)

    def _parse(self, answer: str, src: str, hyp: str) -> Annotation | Unparsable:
        try:
            return parse_answer(answer, severities=self.severity_weights, categories=self.categories, source=src,
                                translation=hyp, check_spans=self.check_spans)
        except Unparsable as err:
            return err

    def _score(self, hyps: list[str], refs: list[list[str]], srcs: list[str] | None, *, tgt_lang: str) -> MetricResult:
        assert srcs is not None
        chat = self.chat_backend()
        capped_before = chat.counters["outputs_length_capped"]
        prompts = [self.render(s, h, r, tgt_lang) for s, h, r in zip(srcs, hyps, refs, strict=True)]
        first = [self._parse(a, s, h) for a, s, h in zip(chat.chat(prompts), srcs, hyps, strict=True)]
        results = list(first)
        again = [i for i, p in enumerate(first) if isinstance(p, Unparsable)]
        if again:  # once, with the reason: a deterministic decoder only answers differently to a different prompt
            retry = [prompts[i] + "\n\n" + self.retry_reminder.format(problem=first[i].detail) for i in again]
            for i, answer in zip(again, chat.chat(retry), strict=True):
                results[i] = self._parse(answer, srcs[i], hyps[i])
                if isinstance(results[i], Unparsable):
                    log.debug("%s: unparsable answer after the retry: %r", self.name, answer[:200])
        parsed = [p if isinstance(p, Annotation) else None for p in results]
        weighted = [None if p is None else p.weighted_errors(self.severity_weights) for p in parsed]
        overall = [None if p is None else p.score for p in parsed]
        segment_scores = weighted if self.primary == "weighted_errors" else overall
        failed = [p for p in results if isinstance(p, Unparsable)]
        if failed:
            log.warning("%s: %d of %d answers could not be parsed after one retry (%s); those segments have no "
                        "score", self.name, len(failed), len(results),
                        ", ".join(f"{k} {n}" for k, n in Counter(p.kind for p in failed).items()))
        scored = [s for s in segment_scores if s is not None]
        judge = {
            "answers": len(results),
            "parsed_first_try": sum(isinstance(p, Annotation) for p in first),
            "parsed_on_retry": len(again) - len(failed),
            "unparsable": len(failed),
            "failures_first_try": _kinds(p for p in first if isinstance(p, Unparsable)),
            "failures": _kinds(failed),
            "answers_cut_off": chat.counters["outputs_length_capped"] - capped_before,
            "errors_by_severity": dict(Counter(e.severity for p in parsed if p for e in p.errors)),
            "protocol": PROTOCOL, "weighted_errors": _mean(weighted), "overall": _mean(overall),
            "primary": self.primary,
            "self_judge": self.judging_itself,
        }
        # Per segment in segments.jsonl: the spans placed in the hypothesis (the report marks them, as
        # XCOMET's), and the whole annotation, or what was wrong with the answer and its first characters.
        spans = [None if p is None else placed_spans(p, h) for p, h in zip(parsed, hyps, strict=True)]
        annotations = [{"errors": [vars(e) for e in p.errors], "score": p.score, "weighted_errors": w}
                       if isinstance(p, Annotation) else {"unparsable": p.kind, "problem": p.detail}
                       for p, w in zip(results, weighted, strict=True)]
        return MetricResult(self.name, _mean(segment_scores) if scored else float("nan"), self.signature(),
                            segment_scores=segment_scores, n_scored=len(scored), extra={"judge": judge},
                            segment_extra={SPANS: spans, "annotation": annotations})


def _kinds(failures) -> dict[str, int]:
    counts = Counter(f.kind for f in failures)
    return {k: counts[k] for k in KINDS if counts[k]}


def _mean(values: list[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return sum(kept) / len(kept) if kept else None


def _template(setting: str, template: Any, allowed: set[str], *, required: set[str]) -> str:
    """A ``str.format`` template using only ``allowed`` fields and every ``required`` one."""
    if not isinstance(template, str) or not template.strip():
        raise ConfigError(f"{setting} must be a non-empty string")
    try:
        used = {f for _, f, _, _ in Formatter().parse(template) if f is not None}
    except ValueError as err:
        raise ConfigError(f"{setting}: {err} (write a literal brace as {{{{ or }}}})") from None
    unknown, missing = used - allowed, required - used
    if unknown:  # a positional {} is the field named ''
        names = ", ".join(sorted(repr(u) for u in unknown))
        raise ConfigError(f"{setting}: unknown field(s) {names}; the fields are "
                          f"{', '.join('{' + f + '}' for f in sorted(allowed))} (write a literal brace as {{{{ or }}}})")
    if missing:
        raise ConfigError(f"{setting}: the field(s) {', '.join('{' + f + '}' for f in sorted(missing))} are missing")
    return template
