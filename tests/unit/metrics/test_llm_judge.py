"""The LLM judge: strict parsing, MQM weighting, retry and accounting (scripted backend), self-judging,
and compare/gate on its scores (the tiny chat model: tests/contract/test_llm_judge_model.py)."""
from __future__ import annotations

import json

import pytest
from hydra.utils import instantiate

from mteval.errors import ConfigError
from mteval.metrics.judge_answer import Unparsable, parse_answer
from mteval.metrics.llm_judge import LLMJudge
from mteval.pipeline import evaluate
from mteval.systems.copy import CopySystem
from mteval.testing.scripted_chat import ScriptedChat
from mteval.types import Corpus, Segment

SRC = "The meeting was moved to next week."
HYP = "会议推迟到明天。"
SEVERITIES = {"minor": 1, "major": 5, "critical": 25}
CATEGORIES = ["accuracy", "fluency", "terminology", "style", "locale", "other"]


def answer(errors=(), score=80) -> str:
    return json.dumps({"errors": [dict(zip(("span", "category", "severity"), e, strict=True)) for e in errors],
                       "score": score}, ensure_ascii=False)


MAJOR = answer([("明天", "accuracy", "major")], 55)


@pytest.mark.parametrize("text, weighted, overall", [
    (answer(), 0.0, 80.0),
    (MAJOR, -5.0, 55.0),
    (answer([("明天", "Accuracy", "MAJOR"), ("。", "fluency", "minor"), ("next week", "accuracy", "critical")], 10),
     -31.0, 10.0),                                                      # case-insensitive; an omission in the source
    ("```json\n" + answer(score=100) + "\n```", 0.0, 100.0),          # one Markdown fence is accepted
    (answer(score=0), 0.0, 0.0), (answer(score=62.5), 0.0, 62.5),
])
def test_valid_answers_parse_and_weigh(text, weighted, overall):
    a = parse_answer(text, severities=SEVERITIES, categories=CATEGORIES, source=SRC, translation=HYP)
    assert (a.weighted_errors(SEVERITIES), a.score) == (weighted, overall)


@pytest.mark.parametrize("text, kind", [
    ("The translation is good. Score: 90", "not_json"),
    ('{"errors": [], "score": 80', "not_json"),
    ("Here you go:\n" + answer(), "not_json"),                          # prose around the JSON is not the format
    (answer() + "\n" + answer(), "not_json"),
    ('{"errors": [], "score": 80, "score": 90}', "not_json"),         # duplicate key
    ('{"errors": [], "score": NaN}', "not_json"),
    ("[1, 2]", "not_an_object"),
    ('{"errors": [], "score": 80, "comment": "ok"}', "keys"),
    ('{"score": 80}', "keys"),
    ('{"errors": "none", "score": 80}', "errors"),
    ('{"errors": [{"span": "明天", "severity": "major"}], "score": 80}', "errors"),
    (answer([("明天", "accuracy", "severe")]), "severity"),
    (answer([("明天", "grammar", "minor")]), "category"),
    (answer([("后天", "accuracy", "major")]), "span"),                  # in neither text
    (answer([("", "accuracy", "major")]), "span"),
    (answer(score=101), "score"), (answer(score=-1), "score"),
    ('{"errors": [], "score": "80"}', "score"), ('{"errors": [], "score": true}', "score"),
])
def test_answers_outside_the_format_are_refused_by_kind(text, kind):
    with pytest.raises(Unparsable) as err:
        parse_answer(text, severities=SEVERITIES, categories=CATEGORIES, source=SRC, translation=HYP)
    assert err.value.kind == kind


@pytest.fixture
def judge_model(tmp_path):
    """A stand-in judge model directory: only its content identity matters with a scripted backend."""
    model = tmp_path / "judge-model"
    model.mkdir()
    (model / "config.json").write_text('{"model_type": "qwen2"}')
    return model


@pytest.fixture
def make_judge(compose, judge_model):
    """The judge as conf/metrics/llm_judge.yaml configures it (its real prompt), with a scripted backend."""
    from omegaconf import OmegaConf

    node = compose("metrics=[llm_judge]", "dataset=wmt22_en_zh").metrics.llm_judge
    settings = {k: v for k, v in OmegaConf.to_container(node, resolve=True).items() if k != "_target_"}

    def make(script, **changes) -> LLMJudge:
        judge = LLMJudge(**{**settings, "model": str(judge_model), **changes})
        judge._chat = ScriptedChat(script)
        return judge
    return make


BAD_JSON = "Score: 80"
# translation -> (first answer, answer to the retry), and what each must come to.
SCENARIOS = {
    "valid": ("会议推迟到下周。", (answer(score=95), BAD_JSON), 0.0),
    "valid_error": (HYP, (MAJOR, BAD_JSON), -5.0),
    "malformed": ("会议推迟。", (BAD_JSON, BAD_JSON), None),
    "out_of_range": ("会议下周。", (answer(score=120), answer(score=150)), None),
    "unknown_severity": ("会议推迟到下周", (answer([("会议", "accuracy", "severe")]),) * 2, None),
    "retry_succeeds": ("会议改期了。", (BAD_JSON, answer([("改期", "accuracy", "minor")], 70)), -1.0),
    "retry_fails": ("会议取消了。", (answer(score=-3), "```\nnot json\n```"), None),
}


def _score(judge, names):
    hyps = [SCENARIOS[n][0] for n in names]
    return judge.score(hyps, [["会议推迟到下周。"]] * len(hyps), [SRC] * len(hyps), tgt_lang="zh")


def test_scripted_annotations_are_scored_retried_and_counted(make_judge):
    names = list(SCENARIOS)
    judge = make_judge({hyp: answers for hyp, answers, _ in SCENARIOS.values()})
    result = _score(judge, names)
    expected = [SCENARIOS[n][2] for n in names]
    assert result.segment_scores == expected
    assert result.n_scored == 3 and result.score == pytest.approx((0 - 5 - 1) / 3)  # unparsed segments never count
    assert result.higher_is_better is True
    j = result.extra["judge"]
    assert (j["answers"], j["parsed_first_try"], j["parsed_on_retry"], j["unparsable"]) == (7, 2, 1, 4)
    assert j["failures"] == {"not_json": 2, "severity": 1, "score": 1}
    assert j["failures_first_try"] == {"not_json": 2, "severity": 1, "score": 2}
    assert j["errors_by_severity"] == {"major": 1, "minor": 1} and j["self_judge"] is False
    assert j["weighted_errors"] == pytest.approx(-2.0) and j["overall"] == pytest.approx((95 + 55 + 70) / 3)
    assert j["protocol"] == "mteval-mqm"
    # Per segment (segments.jsonl): spans placed in the hypothesis, and the annotation or why there is none.
    spans, notes = result.segment_extra["error_spans"], result.segment_extra["annotation"]
    assert spans[1] == [{"text": "明天", "start": 5, "end": 7, "severity": "major", "category": "accuracy"}]
    assert spans[0] == [] and spans[2] is None
    assert notes[2] == {"unparsable": "not_json", "problem": notes[2]["problem"]} and notes[1]["weighted_errors"] == -5.0
    # One call for every segment, one retry call for the five that failed, each retry naming its problem.
    first, retry = judge._chat.calls
    assert len(first) == 7 and len(retry) == 5
    assert all("Your previous answer could not be used:" in p for p in retry)
    assert any("outside 0-100" in p for p in retry) and any("severe" in p for p in retry)
    assert "Reference translation" in first[0] and "会议推迟到下周。" in first[0]


def test_overall_score_is_the_judges_0_to_100_score(make_judge):
    judge = make_judge({hyp: answers for hyp, answers, _ in SCENARIOS.values()}, primary="overall")
    result = _score(judge, ["valid", "valid_error", "malformed"])
    assert result.segment_scores == [95.0, 55.0, None] and result.score == 75.0
    assert "score:overall" in result.signature and result.extra["judge"]["primary"] == "overall"


@pytest.mark.parametrize("old, new", [("mqm", "weighted_errors"), ("esa", "overall")])
def test_the_judge_is_never_reported_as_gemba_mqm_or_esa(make_judge, caplog, old, new):
    """Its protocol is mteval's own (issue 20): the signature and scores.json name it so; the old primary
    names, still in stored settings, are read as the new ones with a warning."""
    judge = make_judge({HYP: (MAJOR, MAJOR)}, primary=old)
    assert judge.primary == new and f"primary={old} is read as {new}" in caplog.text
    result = judge.score([HYP], [["r"]], [SRC], tgt_lang="zh")
    assert "|protocol:mteval-mqm|prompt:mteval-mqm-json-v1@" in result.signature
    assert f"|score:{new}|w:minor=1,major=5,critical=25|" in result.signature
    stored = json.dumps({"signature": result.signature, "extra": result.extra, "seg": result.segment_extra},
                        ensure_ascii=False).lower()
    assert not any(name in stored for name in ("esa", "gemba", '"mqm"', "score:mqm"))
    with pytest.raises(ConfigError, match="primary"):
        make_judge({}, primary="gemba")


def test_signature_names_prompt_weights_model_content_and_greedy_decoding(make_judge, judge_model):
    judge = make_judge({})
    sig = judge.signature()
    assert f"model:{judge_model}@sha256:" in sig and "|protocol:mteval-mqm|prompt:mteval-mqm-json-v1@" in sig
    assert "|w:minor=1,major=5,critical=25|" in sig and "|self:no|search:greedy|" in sig
    other = make_judge({}, prompt_template="{source} {translation} {reference} judge me")
    assert other.prompt_digest() != judge.prompt_digest()  # a changed prompt changes the signature
    (judge_model / "model.safetensors").write_bytes(b"other weights")
    assert make_judge({}).signature() != sig  # so does a model swapped at the same path


def test_nothing_parsed_gives_no_score_and_the_pipeline_keeps_the_counts(make_judge):
    judge = make_judge({"Hello": (BAD_JSON, BAD_JSON), "World": (BAD_JSON, answer(score=300))})
    corpus = Corpus(name="toy", src_lang="en", tgt_lang="zh",
                    segments=[Segment(id="1", src="Hello", refs=["r"]), Segment(id="2", src="World", refs=["r"])])
    run = evaluate(corpus, CopySystem(name="copy"), [judge])
    assert "llm_judge" not in run.metrics and "llm_judge" not in run.provenance["skipped_metrics"]
    kept = run.provenance["unscored_metrics"]["llm_judge"]
    assert kept["n_scored"] == 0 and "score" not in kept
    assert kept["judge"]["unparsable"] == 2 and kept["judge"]["failures"] == {"not_json": 1, "score": 1}


@pytest.mark.parametrize("change, message", [
    ({"prompt_template": "Judge {translation} of {source} vs {referense}"}, "unknown field(s) 'referense'"),
    ({"prompt_template": "Judge {translation} of {source}"}, "{reference} are missing"),
    ({"prompt_template": "{source} {translation}", "use_reference": False, "name": "qe"}, None),
    ({"prompt_template": "{source} {translation} {reference}", "use_reference": False}, "unknown field"),
    ({"retry_reminder": "Try again {problm}"}, "retry_reminder: unknown field"),
    ({"prompt_template": '{source} {translation} {reference} {"score": 1}'}, "literal brace"),
    ({"severity_weights": {"minor": 1, "major": -5}}, "severity_weights.major"),
    ({"backend": "openai"}, "backend"),
])
def test_bad_prompt_settings_are_refused_at_instantiation(make_judge, change, message):
    if message is None:
        make_judge({}, **change)
        return
    with pytest.raises(ConfigError) as err:
        make_judge({}, **change)
    assert message in str(err.value)


def test_reference_free_judge_scores_segments_without_references(make_judge):
    template = "Source: {source}\nTranslation to annotate:\n{translation}\n\nStep 1. Annotate."
    judge = make_judge({HYP: (MAJOR, MAJOR)}, use_reference=False, prompt_template=template)
    assert judge.needs_ref is False
    result = judge.score([HYP], [[]], [SRC], tgt_lang="zh")
    assert result.segment_scores == [-5.0] and "|qe:yes|" in result.signature


def test_the_judge_refuses_its_own_model_unless_allowed(make_judge, judge_model):
    from mteval.hub.identity import model_identity

    same = {"class": "HFChat", "model": "elsewhere/copy", "model_identity": model_identity(str(judge_model))}
    with pytest.raises(ConfigError, match="allow_self_judge=true"):
        make_judge({}).check_judged_system(same)
    with pytest.raises(ConfigError):
        make_judge({}).check_judged_system({"model": str(judge_model)})
    allowed = make_judge({HYP: (MAJOR, MAJOR)}, allow_self_judge=True)
    allowed.check_judged_system(same)
    result = allowed.score([HYP], [["r"]], [SRC], tgt_lang="zh")
    assert "|self:yes|" in result.signature and result.extra["judge"]["self_judge"] is True
    independent = make_judge({})
    independent.check_judged_system({"class": "FileSystem", "name": "LanguageX"})
    assert "|self:no|" in independent.signature()


def test_compare_and_gate_take_the_judge_like_any_mean_metric(make_judge, tmp_path):
    from mteval.compare.comparison import compare_runs
    from mteval.compare.load import load_runset
    from mteval.gate.baseline import view_of_run
    from mteval.commands.gate import run as gate
    from mteval.gate.decide import GateConfig, decide
    from mteval.report.spans import marked, spans_metric
    from mteval.results.io import load_run
    from mteval.testing.runs import text_run

    refs = [f"参考{i}" for i in range(8)]
    good = [f"好{i}" for i in range(8)]
    bad = [f"坏{i}" for i in range(8)]
    script = {h: (answer(score=90), BAD_JSON) for h in good}
    script.update({h: (answer([(h, "accuracy", "major")], 40), BAD_JSON) for h in bad})
    runs = [text_run(tmp_path / name, hyps, refs, metrics=[make_judge(script)], system=name)
            for name, hyps in (("good", good), ("bad", bad))]
    stored = json.loads((runs[0] / "scores.json").read_text())["metrics"]["llm_judge"]
    assert stored["metric"]["class"] == "mteval.metrics.llm_judge.LLMJudge" and stored["judge"]["unparsable"] == 0
    comp = compare_runs(load_runset(runs), ["llm_judge"], baseline="good", n_bootstrap=200, n_ar=200, seed=3)
    assert list(comp.metrics[0].scores) == [0.0, -5.0]
    assert load_run(runs[1]).error_spans("llm_judge")[3] == [
        {"text": "坏3", "start": 0, "end": 2, "severity": "major", "category": "accuracy"}]
    assert spans_metric(comp) == "llm_judge"  # the report marks the judge's spans as it marks XCOMET's
    assert "<mark class='major' title='major, accuracy'>坏3</mark>" in marked("坏3", load_run(runs[1]).error_spans(
        "llm_judge")[3])
    report = decide(view_of_run(runs[0]), view_of_run(runs[1]),
                    GateConfig(min_effect={"llm_judge": 1.0}, n_resamples=200, seed=1))
    assert report.exit_code == 1 and report.verdicts[0].effect == -5.0
    # The gate CLI with its shipped config (conf/gate.yaml has a min_effect for llm_judge).
    assert gate(["--baseline", str(runs[0]), "--current", str(runs[1])]) == 1
    assert gate(["--baseline", str(runs[1]), "--current", str(runs[0])]) == 0


def test_results_stored_under_the_old_names_still_load_compare_and_gate(make_judge, tmp_path):
    """scores.json and segments.jsonl written before the rename (primary mqm, score:mqm, judge mqm/esa) load,
    compare and gate as before; mixed with a run under the new names they are refused, naming both."""
    from mteval.compare.comparison import compare_runs
    from mteval.compare.load import load_runset, select_metrics
    from mteval.errors import IncomparableError
    from mteval.gate.baseline import view_of_run
    from mteval.gate.decide import GateConfig, decide
    from mteval.results.io import load_run
    from mteval.testing.runs import text_run

    refs = [f"参考{i}" for i in range(6)]
    systems = {"good": [f"好{i}" for i in range(6)], "bad": [f"坏{i}" for i in range(6)]}
    script = {h: (answer(score=90), BAD_JSON) for h in systems["good"]}
    script.update({h: (answer([(h, "accuracy", "major")], 40), BAD_JSON) for h in systems["bad"]})
    new = {n: text_run(tmp_path / n, hyps, refs, metrics=[make_judge(script)], system=n) for n, hyps in systems.items()}
    old = {}
    for name, run in new.items():
        old[name] = tmp_path / f"old_{name}"
        old[name].mkdir()
        for f in run.iterdir():
            text = f.read_text(encoding="utf-8") if f.is_file() else None
            if text is None:
                continue
            for a, b in (("protocol:mteval-mqm|", ""), ("mteval-mqm-json-v1", "esa-mqm-json-v1"),
                         ("score:weighted_errors", "score:mqm"), ('"primary": "weighted_errors"', '"primary": "mqm"'),
                         ('"weighted_errors":', '"mqm":'), ('"overall":', '"esa":'), ('"protocol": "mteval-mqm", ', "")):
                text = text.replace(a, b)
            (old[name] / f.name).write_text(text, encoding="utf-8")
    stored = json.loads((old["good"] / "scores.json").read_text())["metrics"]["llm_judge"]
    assert "score:mqm" in stored["signature"] and stored["metric"]["settings"]["primary"] == "mqm"
    comp = compare_runs(load_runset(list(old.values())), ["llm_judge"], baseline="good", n_bootstrap=100, n_ar=0,
                        seed=3)
    assert list(comp.metrics[0].scores) == [0.0, -5.0]
    assert load_run(old["bad"]).error_spans("llm_judge")[2][0]["severity"] == "major"
    report = decide(view_of_run(old["good"]), view_of_run(old["bad"]),
                    GateConfig(min_effect={"llm_judge": 1.0}, n_resamples=100, seed=1))
    assert report.exit_code == 1 and report.verdicts[0].effect == -5.0
    with pytest.raises(IncomparableError, match="score:mqm.*\n.*score:weighted_errors"):
        select_metrics(load_runset([old["good"], new["bad"]]).runs, ["llm_judge"])
    mixed = decide(view_of_run(old["good"]), view_of_run(new["bad"]), GateConfig(min_effect={"llm_judge": 1.0}))
    assert mixed.exit_code == 2 and "score:mqm" in mixed.refused and "score:weighted_errors" in mixed.refused


def test_runs_whose_judge_left_different_segments_unscored_are_refused_not_misread(make_judge, tmp_path):
    """Means over different segments are not comparable: compare and gate say so (no misleading rebuild error)."""
    from mteval.compare.comparison import compare_runs
    from mteval.compare.load import load_runset
    from mteval.errors import IncomparableError
    from mteval.gate.baseline import view_of_run
    from mteval.gate.decide import GateConfig, decide
    from mteval.testing.runs import text_run

    refs = [f"参考{i}" for i in range(4)]
    a, b = [f"甲{i}" for i in range(4)], [f"乙{i}" for i in range(4)]
    script = {h: (answer(score=90), BAD_JSON) for h in a + b}
    script[b[2]] = (BAD_JSON, BAD_JSON)
    runs = [text_run(tmp_path / n, hyps, refs, metrics=[make_judge(script)], system=n) for n, hyps in (("a", a), ("b", b))]
    with pytest.raises(IncomparableError, match="scored 4 segments but .* scored 3"):
        compare_runs(load_runset(runs), ["llm_judge"], n_bootstrap=50, n_ar=0)
    report = decide(view_of_run(runs[0]), view_of_run(runs[1]), GateConfig(min_effect={"llm_judge": 1.0}))
    assert report.exit_code == 2 and "not the same ones" in report.refused


def test_both_chat_backends_get_the_judges_prompt_and_greedy_decoding(make_judge, judge_model, monkeypatch):
    """The judge reuses HFChat/VLLMChat: the system prompt, a pass-through template, one beam, and vLLM's
    missing install explained in one line."""
    import sys

    from mteval.errors import ModelUnavailableError
    from mteval.systems.hf_chat import HFChat
    from mteval.systems.vllm_chat import VLLMChat

    (judge_model / "generation_config.json").write_text('{"do_sample": true, "temperature": 0.7, "top_p": 0.8}')
    for backend, cls in (("hf", HFChat), ("vllm", VLLMChat)):
        judge = make_judge({}, backend=backend)
        judge._chat = None  # the real backend, built (not loaded) on demand
        chat = judge.chat_backend()
        assert type(chat) is cls and chat.prompt_template == "{text}" and chat.config_path == "metrics.llm_judge"
        assert chat.system_prompt == judge.system_prompt and chat.max_new_tokens == judge.max_new_tokens
        assert chat.decoding().describe()["mode"] == "greedy"
        assert chat.decoding().ignored_model_defaults == {"do_sample": True, "temperature": 0.7, "top_p": 0.8}
    assert chat.sampling_kwargs()["temperature"] == 0.0
    monkeypatch.setitem(sys.modules, "vllm", None)
    with pytest.raises(ModelUnavailableError, match=r"pip install 'mteval\[vllm\]'"):
        judge.score([HYP], [["r"]], [SRC], tgt_lang="zh")


def test_prefetch_and_the_offline_check_know_the_judge_model(compose, monkeypatch):
    from mteval.hub import availability
    from mteval.hub.availability import check_models
    from mteval.pipeline import required_models
    from mteval.errors import ModelUnavailableError
    from mteval.commands.prefetch import ModelRef, models_in_config

    cfg = compose("metrics=[bleu,llm_judge]", "dataset=wmt22_en_zh", "system=wmt22_submission")
    assert models_in_config(cfg) == [ModelRef("Qwen/Qwen2.5-7B-Instruct", None, "system", "metrics.llm_judge")]
    judge = instantiate(cfg.metrics.llm_judge, _convert_="all")
    monkeypatch.setattr(availability, "is_cached", lambda repo, revision=None, filename="config.json": False)
    with pytest.raises(ModelUnavailableError, match=r"Qwen/Qwen2.5-7B-Instruct' \(metrics.llm_judge\)"):
        check_models(required_models(CopySystem(), [judge]))
