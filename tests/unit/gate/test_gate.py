"""mteval-gate: refuse incomparable runs, fail only on a drop that is both large enough and significant."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from mteval.errors import ConfigError
from mteval.gate.baseline import load_baseline, view_of_run, write_baseline
from mteval.commands.gate import run as gate
from mteval.gate.decide import GateConfig, decide
from mteval.metrics.sacre import BLEU, TER, ChrF
from mteval.pipeline import score
from mteval.results.io import write_run
from mteval.types import Corpus, MetricResult, RunResult, Segment
from tests.helpers import ROOT

REFS = ["今天天气很好。", "我们提出一种新方法。", "模型规模很重要。", "请检查你的订单。", "这家商店周日关门。",
        "他昨天去了北京。", "数据集包含两千个句子。", "翻译质量提高了。", "会议推迟到下周。", "价格包括运费。"]
BAD = ["天气", "方法", "模型", "订单", "商店", "北京", "句子", "质量", "会议", "运费"]


def make_run(path: Path, hyps: list[str], *, refs: list[str] = REFS, dataset: str = "toy", metrics=None,
             mean_scores: dict[str, tuple[list[float], bool]] | None = None, ids: list[str] | None = None) -> Path:
    """Write a run directory: real sacrebleu metrics, plus made-up mean metrics (name -> (scores, higher_is_better))."""
    corpus = Corpus(name=dataset, src_lang="en", tgt_lang="zh", segments=[
        Segment(id=(ids[i] if ids else f"s{i}"), src=f"source {i}", refs=[r]) for i, r in enumerate(refs)])
    results: dict[str, MetricResult] = {}
    for metric in metrics if metrics is not None else [BLEU(), ChrF()]:
        results[metric.name] = score(metric, corpus, hyps)
    for name, (segs, hib) in (mean_scores or {}).items():
        results[name] = MetricResult(name, sum(segs) / len(segs), f"{name}-sig", higher_is_better=hib,
                                     segment_scores=list(segs), n_scored=len(segs),
                                     extra={"metric": {"class": "mteval.metrics.comet.Comet", "settings": {}}})
    write_run(path, RunResult(dataset=dataset, system=path.name, corpus=corpus, hypotheses=hyps, metrics=results))
    return path


def config(**min_effect: float) -> GateConfig:
    return GateConfig(min_effect={"bleu": 0.5, "chrf": 0.5, "ter": 0.5, "comet": 0.005, **min_effect},
                      n_resamples=300, seed=1)


def test_identical_runs_pass_with_p_one(tmp_path):
    a = make_run(tmp_path / "a", REFS[:5] + BAD[5:])
    report = decide(view_of_run(a), view_of_run(a), config())
    assert report.exit_code == 0 and report.refused is None
    assert [(v.name, v.effect, v.p_value) for v in report.verdicts] == [("bleu", 0.0, 1.0), ("chrf", 0.0, 1.0)]


def test_large_significant_drop_fails_and_improvement_passes(tmp_path):
    good = make_run(tmp_path / "good", list(REFS))
    bad = make_run(tmp_path / "bad", list(BAD))
    worse = decide(view_of_run(good), view_of_run(bad), config())
    assert worse.exit_code == 1
    assert all(v.failed and v.effect < -0.5 and v.p_value < 0.05 for v in worse.verdicts)
    better = decide(view_of_run(bad), view_of_run(good), config())
    assert better.exit_code == 0
    assert all(not v.failed and v.effect > 0 and v.reason.startswith("better") for v in better.verdicts)


def test_ter_direction_comes_from_higher_is_better(tmp_path):
    good = make_run(tmp_path / "good", list(REFS), metrics=[TER()])
    bad = make_run(tmp_path / "bad", list(BAD), metrics=[TER()])
    report = decide(view_of_run(good), view_of_run(bad), config())
    (v,) = report.verdicts
    assert not v.higher_is_better and v.current > v.baseline  # TER rose ...
    assert v.effect < 0 and v.failed and report.exit_code == 1  # ... which is worse
    assert decide(view_of_run(bad), view_of_run(good), config()).exit_code == 0


def test_significant_drop_below_min_effect_passes(tmp_path):
    n = 10
    base = [0.80] * n
    cur = [0.797] * n  # 0.003 worse on every segment: p is tiny, the effect below 0.005
    a = make_run(tmp_path / "a", REFS, metrics=[], mean_scores={"comet": (base, True)})
    b = make_run(tmp_path / "b", REFS, metrics=[], mean_scores={"comet": (cur, True)})
    (v,) = decide(view_of_run(a), view_of_run(b), config()).verdicts
    assert v.p_value < 0.05 and not v.failed and "below the minimum effect" in v.reason


def test_large_drop_that_is_noise_passes(tmp_path):
    base = [0.9, 0.1] * 5
    cur = [0.1, 0.9] * 4 + [0.1, 0.8]  # mean 0.01 lower, paired differences of +-0.8
    a = make_run(tmp_path / "a", REFS, metrics=[], mean_scores={"comet": (base, True)})
    b = make_run(tmp_path / "b", REFS, metrics=[], mean_scores={"comet": (cur, True)})
    (v,) = decide(view_of_run(a), view_of_run(b), config()).verdicts
    assert v.effect == pytest.approx(-0.01)
    assert v.p_value >= 0.05 and not v.failed and "not significant" in v.reason


def test_lower_is_better_mean_metric(tmp_path):
    a = make_run(tmp_path / "a", REFS, metrics=[], mean_scores={"comet": ([0.2] * 10, False)})
    b = make_run(tmp_path / "b", REFS, metrics=[], mean_scores={"comet": ([0.3] * 10, False)})
    (v,) = decide(view_of_run(a), view_of_run(b), config()).verdicts
    assert v.effect == pytest.approx(-0.1) and v.failed


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"dataset": "other"}, "dataset differs"),
        ({"ids": [f"x{i}" for i in range(10)]}, "segment ids differ at position 1"),
        ({"refs": REFS[:9] + ["不同的参考。"]}, "the references differ"),
        ({"metrics": [BLEU(tokenize="13a"), ChrF()]}, "bleu signatures differ"),
        ({"metrics": [BLEU()]}, "the current run has no 'chrf' score"),
        ({"metrics": [BLEU(tokenize="zh"), ChrF()]}, None),  # "auto" resolves to zh: same signature, comparable
    ],
)
def test_incomparable_runs_are_refused(tmp_path, change, message):
    base = make_run(tmp_path / "base", list(REFS))
    cur = make_run(tmp_path / "cur", list(BAD), **change)
    report = decide(view_of_run(base), view_of_run(cur), config())
    if message is None:
        assert report.refused is None and report.exit_code == 1
    else:
        assert report.exit_code == 2 and message in report.refused and not report.verdicts


def test_edited_run_directory_is_refused(tmp_path):
    base = make_run(tmp_path / "base", list(REFS))
    cur = make_run(tmp_path / "cur", list(BAD))
    scores = json.loads((cur / "scores.json").read_text(encoding="utf-8"))
    scores["metrics"]["bleu"]["score"] += 30  # someone "fixed" the number by hand
    (cur / "scores.json").write_text(json.dumps(scores), encoding="utf-8")
    report = decide(view_of_run(base), view_of_run(cur), config())
    assert report.exit_code == 2 and "edited" in report.refused


def test_baseline_round_trip(tmp_path):
    comet = [0.5 + i / 100 for i in range(10)]
    run = make_run(tmp_path / "run", REFS[:5] + BAD[5:], mean_scores={"comet": (comet, True)})
    out = write_baseline(run, tmp_path / "b" / "base.json")
    loaded, fresh = load_baseline(out), view_of_run(run)
    for field in ("ids", "hyps", "src_sha", "refs_sha"):
        assert getattr(loaded, field) == getattr(fresh, field)
    for name in ("bleu", "chrf"):
        assert loaded.stats[name] == fresh.stats_for(name)
    assert loaded.segment_scores == fresh.segment_scores
    assert decide(loaded, fresh, config()).exit_code == 0
    only = load_baseline(write_baseline(run, tmp_path / "only.json", metrics=["bleu"]))
    assert list(only.metrics) == ["bleu"] and list(only.stats) == ["bleu"]


def test_cli_writes_summary_and_junit(tmp_path):
    good = make_run(tmp_path / "good", list(REFS))
    bad = make_run(tmp_path / "bad", list(BAD), metrics=[BLEU(), ChrF(), TER()])
    assert gate(["--write-baseline", str(good), "--out", str(tmp_path / "base.json")]) == 0
    cfg = tmp_path / "gate.yaml"
    cfg.write_text("alpha: 0.05\nn_resamples: 200\nmin_effect: {bleu: 0.5, chrf: 100}\n", encoding="utf-8")
    md, junit = tmp_path / "out" / "summary.md", tmp_path / "out" / "junit.xml"
    code = gate(["--baseline", str(tmp_path / "base.json"), "--current", str(bad), "--config", str(cfg),
                 "--summary-md", str(md), "--junit", str(junit)])
    assert code == 1
    text = md.read_text(encoding="utf-8")
    assert text.startswith("## mteval quality gate: FAIL") and "| bleu ↑ |" in text and "Largest bleu drops" in text
    assert "Not gated (no baseline or not selected): ter." in text
    suite = ET.parse(junit).getroot().find("testsuite")
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert set(cases) == {"bleu", "chrf"} and suite.get("failures") == "1"
    assert cases["bleu"].find("failure") is not None and cases["chrf"].find("failure") is None


def test_cli_refusal_is_an_error_testcase(tmp_path):
    base = make_run(tmp_path / "base", list(REFS))
    other = make_run(tmp_path / "other", list(REFS), dataset="other")
    gate(["--write-baseline", str(base), "--out", str(tmp_path / "b.json")])
    junit = tmp_path / "j.xml"
    assert gate(["--baseline", str(tmp_path / "b.json"), "--current", str(other), "--junit", str(junit)]) == 2
    (case,) = ET.parse(junit).getroot().iter("testcase")
    assert case.find("error") is not None and "dataset differs" in case.find("error").get("message")
    assert gate(["--baseline", str(tmp_path / "b.json"), "--current", str(tmp_path / "missing")]) == 2


def test_config_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("alpha: 0.05\nmin_efect: {bleu: 0.5}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown key"):
        GateConfig.from_file(bad)
    run = make_run(tmp_path / "run", list(REFS))
    with pytest.raises(ConfigError, match="no min_effect for chrf"):
        decide(view_of_run(run), view_of_run(run), GateConfig(min_effect={"bleu": 0.5}))


def test_default_config():
    cfg = GateConfig.from_file(ROOT / "conf" / "gate.yaml")
    assert cfg.min_effect["bleu"] == 0.5 and cfg.min_effect["comet"] == 0.005 and 0 < cfg.alpha < 1
