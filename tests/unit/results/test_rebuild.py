"""One rebuild of a metric from scores.json for compare and gate: the same refusals, the same statistics (issue 18, item 3)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from mteval.compare.comparison import compare_runs
from mteval.compare.load import load_runset
from mteval.compare.segstats import metric_stats
from mteval.errors import IncomparableError
from mteval.gate.baseline import view_of_run
from mteval.metrics.sacre import BLEU, TER, ChrF
from mteval.results.rebuild import rebuild_metric
from mteval.testing.runs import text_run

REFS = ["今天天气很好。", "我们提出一种新方法。", "模型规模很重要。", "请检查你的订单。", "这家商店周日关门。", "他昨天去了北京。"]
HYPS = ["今天天气好。", "一种新方法。", "模型很重要。", "检查订单。", "商店周日关门。", "他去了北京。"]


@pytest.fixture(scope="module")
def pair(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("rebuild")
    metrics = [BLEU(), ChrF(), TER()]
    return text_run(root / "a", HYPS, REFS, metrics=metrics), text_run(root / "b", REFS, REFS, metrics=metrics)


def _edited(run: Path, dst: Path, edit) -> Path:
    shutil.copytree(run, dst)
    scores = json.loads((dst / "scores.json").read_text(encoding="utf-8"))
    edit(scores["metrics"]["bleu"])
    (dst / "scores.json").write_text(json.dumps(scores, ensure_ascii=False), encoding="utf-8")
    return dst


EDITS = {
    "unknown-setting": (lambda e: e["metric"]["settings"].update(bogus=1), "cannot be rebuilt"),
    "bad-setting": (lambda e: e["metric"]["settings"].update(tokenize="no-such"), "cannot be rebuilt"),
    "no-class": (lambda e: e.pop("metric"), "has no 'metric.class'"),
    "settings-list": (lambda e: e["metric"].update(settings=[1]), "'metric.settings' must be an object"),
}


@pytest.mark.parametrize("what", list(EDITS))
def test_compare_and_gate_refuse_the_same_stored_metrics_with_the_same_line(pair, tmp_path, what):
    edit, needle = EDITS[what]
    broken = _edited(pair[0], tmp_path / "a", edit)
    with pytest.raises(IncomparableError) as in_compare:
        compare_runs(load_runset([broken, pair[1]]), ["bleu"], n_bootstrap=10, n_ar=0)
    with pytest.raises(IncomparableError) as in_gate:
        view_of_run(broken).stats_for("bleu")
    assert needle in str(in_compare.value) and str(in_compare.value) == str(in_gate.value)
    assert "\n" not in str(in_gate.value) and f"{broken}: metric 'bleu'" in str(in_gate.value)


def test_a_class_outside_mteval_is_never_imported_and_must_be_a_mean_of_its_segments(pair, tmp_path):
    """A metric a user added outside mteval is resampled from its segment scores (never imported); a BLEU
    entry relabelled so is refused, its sentence scores not averaging to its corpus score."""
    broken = _edited(pair[0], tmp_path / "a", lambda e: e["metric"].update({"class": "os.system"}))
    assert view_of_run(broken).stats_for("bleu") is None
    with pytest.raises(IncomparableError, match="not the mean of its segment scores"):
        compare_runs(load_runset([broken, pair[1]]), ["bleu"], n_bootstrap=10, n_ar=0)


def test_a_model_metric_is_never_instantiated_from_a_file():
    """A COMET entry names its class; its settings are not run (its segment scores are resampled as they are)."""
    entry = {"metric": {"class": "mteval.metrics.comet.Comet", "settings": {"model_id": "x", "no_such_parameter": 1}}}
    assert rebuild_metric("comet", entry, "run") is None


def test_compare_and_gate_resample_the_same_statistics(pair):
    """The gate's per-segment statistics of a run are the rows compare resamples, for every sacrebleu metric."""
    runset = load_runset(list(pair))
    comp = compare_runs(runset, ["bleu", "chrf", "ter"], n_bootstrap=10, n_ar=0)
    view = view_of_run(pair[0])
    for m in comp.metrics:
        gate_rows = np.array(view.stats_for(m.name), dtype=np.float64)
        assert np.array_equal(gate_rows, metric_stats(runset, m.name).stats[0])
        assert m.scores[0] == pytest.approx(view.metrics[m.name]["score"], rel=1e-12)


def test_an_edited_hypothesis_is_refused_by_both(pair, tmp_path):
    dst = tmp_path / "a"
    shutil.copytree(pair[0], dst)
    rows = [json.loads(x) for x in (dst / "segments.jsonl").read_text(encoding="utf-8").splitlines()]
    rows[0]["hyp"] = "完全不同的译文。"
    (dst / "segments.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                                        encoding="utf-8")
    for attempt in (lambda: compare_runs(load_runset([dst, pair[1]]), ["bleu"], n_bootstrap=10, n_ar=0),
                    lambda: view_of_run(dst).stats_for("bleu")):
        with pytest.raises(IncomparableError, match="bleu rebuilt from its segments is .* but its corpus score is"):
            attempt()
