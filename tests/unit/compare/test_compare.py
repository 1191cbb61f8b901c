"""mteval-compare on run dirs: equal to sacrebleu's paired tests, refuses incomparable runs, writes its outputs."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from sacrebleu.metrics import BLEU, CHRF
from sacrebleu.significance import PairedTest

from mteval.bench.compare import build_submission_runs
from mteval.commands.compare import main
from mteval.compare.comparison import compare_runs
from mteval.compare.load import expand_run_dirs, load_runset, select_metrics
from mteval.stats.resampling import bootstrap_indices
from mteval.errors import IncomparableError, InputError

# Close pairs (HuaweiTSC / JDExploreAcademy) give p-values far from the floor on 300 segments.
SYSTEMS = ("LanguageX", "HuaweiTSC", "JDExploreAcademy", "Online-B")
N_SEG = 300


@pytest.fixture(scope="module")
def sweep(wmt22, tmp_path_factory) -> Path:
    """Four WMT22 submissions, first 300 segments, BLEU and chrF, laid out like a Hydra sweep dir."""
    out = tmp_path_factory.mktemp("sweep")
    build_submission_runs(out, SYSTEMS, limit=N_SEG)
    return out


@pytest.fixture
def copy_of(sweep, tmp_path):
    """A writable copy of the sweep, to damage."""
    def _copy() -> Path:
        dst = tmp_path / "sweep"
        shutil.copytree(sweep, dst)
        return dst
    return _copy


def _sacrebleu(runset, order: list[int], test_type: str, n: int):
    """sacrebleu's PairedTest as its command line runs it, baseline first."""
    refs = [[r[0] for r in runset.refs]]
    metrics = {"BLEU": BLEU(tokenize="zh", references=refs), "CHRF": CHRF(references=refs)}
    named = [(runset.names[i], runset.hyps(i)) for i in order]
    return PairedTest(named, metrics, references=None, test_type=test_type, n_samples=n)()[1]


def test_equals_sacrebleu_paired_bootstrap_and_randomisation(sweep, monkeypatch):
    monkeypatch.setenv("SACREBLEU_SEED", "12345")
    runset = load_runset([sweep])
    assert runset.names == list(SYSTEMS)
    comp = compare_runs(runset, ["bleu", "chrf"], baseline="HuaweiTSC", n_bootstrap=200, n_ar=500, seed=12345)
    order = [1, 0, 2, 3]
    bs, ar = _sacrebleu(runset, order, "bs", 200), _sacrebleu(runset, order, "ar", 500)
    for m, key in zip(comp.metrics, ("BLEU", "chrF2"), strict=True):
        for k, i in enumerate(order):
            assert m.scores[i] == bs[key][k].score == ar[key][k].score
            assert (m.intervals[i].mean, m.intervals[i].half_width) == (bs[key][k].mean, bs[key][k].ci)
            assert m.p_bs[i] == bs[key][k].p_value and m.p_ar[i] == ar[key][k].p_value
        # JDExploreAcademy is close to HuaweiTSC: the tests have something to decide.
        assert m.p_bs[2] > 0.05 and m.p_ar[2] > 0.05
    # Every pair's bootstrap p-value, symmetric, drives the clusters.
    bleu = comp.metrics[0]
    assert np.array_equal(bleu.pairwise_p, bleu.pairwise_p.T)
    assert bleu.pairwise_p[1, 2] == bleu.p_bs[2]


def test_baseline_defaults_to_the_first_run_and_unknown_is_refused(sweep):
    runset = load_runset([sweep])
    comp = compare_runs(runset, ["bleu"], n_bootstrap=50, n_ar=0)
    assert comp.baseline == 0 and comp.metrics[0].p_bs[0] is None and comp.metrics[0].p_ar == [None] * 4
    with pytest.raises(IncomparableError, match="baseline 'Nope' is not among the runs"):
        compare_runs(runset, ["bleu"], baseline="Nope")


def test_sweep_dirs_expand_in_job_order(tmp_path):
    for name in ("10_b", "2_a", "1_c", "notes"):
        (tmp_path / name).mkdir()
    for name in ("10_b", "2_a", "1_c"):
        (tmp_path / name / "scores.json").write_text("{}")
    assert [p.name for p in expand_run_dirs([tmp_path])] == ["1_c", "2_a", "10_b"]
    with pytest.raises(InputError, match="no finished run"):
        expand_run_dirs([tmp_path / "notes"])
    with pytest.raises(InputError, match="not found"):
        expand_run_dirs([tmp_path / "missing"])


def test_two_runs_of_one_system_get_distinct_names(sweep, tmp_path):
    shutil.copytree(sweep / "0_LanguageX", tmp_path / "again")
    runset = load_runset([sweep / "0_LanguageX", tmp_path / "again"])
    assert runset.names == ["LanguageX@0_LanguageX", "LanguageX@again"]
    comp = compare_runs(runset, ["bleu"], n_bootstrap=100, n_ar=100)
    # Identical outputs: not significantly different, one cluster.
    assert comp.metrics[0].p_bs[1] == comp.metrics[0].p_ar[1] == 1.0
    assert comp.metrics[0].ranks.tolist() == [1, 1]


def _edit_json(path: Path, edit) -> None:
    obj = json.loads(path.read_text(encoding="utf-8"))
    edit(obj)
    path.write_text(json.dumps(obj, ensure_ascii=False), encoding="utf-8")


def _edit_segments(path: Path, edit) -> None:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    edit(rows)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def test_different_signatures_are_refused(copy_of, capsys):
    sweep = copy_of()
    _edit_json(sweep / "1_HuaweiTSC" / "scores.json",
               lambda s: s["metrics"]["bleu"].update(signature=s["metrics"]["bleu"]["signature"].replace("zh", "13a")))
    runset = load_runset([sweep])
    with pytest.raises(IncomparableError, match="bleu was scored differently"):
        select_metrics(runset.runs, ["bleu", "chrf"])
    assert select_metrics(runset.runs, ["chrf"]) == ["chrf"]
    with pytest.raises(SystemExit) as exit_info:
        main([str(sweep), "--metrics", "bleu", "--no-report", "--out", str(sweep / "out")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("mteval-compare: error: bleu was scored differently") and "tok:13a" in err


@pytest.mark.parametrize(("what", "message"), [
    ("dataset", "different datasets"),
    ("id", "differ in segment 3 \\(id\\)"),
    ("ref", "differ in segment 3 \\(refs\\)"),
    ("hyp", "bleu rebuilt from its segments is"),
    ("missing", "has no ter score"),
])
def test_incomparable_runs_are_refused(copy_of, what, message):
    sweep = copy_of()
    run = sweep / "2_JDExploreAcademy"
    if what == "dataset":
        _edit_json(run / "scores.json", lambda s: s.update(dataset="abstracts"))
    elif what in ("id", "ref"):
        def edit(rows):
            if what == "id":
                rows[2]["id"] = "other"
            else:
                rows[2]["refs"] = ["另一个参考译文。"]
        _edit_segments(run / "segments.jsonl", edit)
    elif what == "hyp":
        _edit_segments(run / "segments.jsonl", lambda rows: rows[0].update(hyp="完全不同的译文。"))
    with pytest.raises(IncomparableError, match=message):
        runset = load_runset([sweep])
        metrics = select_metrics(runset.runs, ["bleu", "ter"] if what == "missing" else ["bleu"])
        compare_runs(runset, metrics, n_bootstrap=20, n_ar=0)


def test_fewer_than_two_runs_are_refused(sweep):
    with pytest.raises(IncomparableError, match="at least two runs"):
        load_runset([sweep / "0_LanguageX"])


def test_segment_score_metrics_resample_their_segment_scores(copy_of):
    """COMET-like metrics (corpus = mean of segment scores) go through the same engine."""
    sweep = copy_of()
    rng = np.random.default_rng(0)
    seg_scores = {}
    for run in sorted(p for p in sweep.iterdir() if (p / "scores.json").is_file()):
        scores = rng.uniform(0.6, 0.9, N_SEG).round(4)
        seg_scores[run.name.split("_", 1)[1]] = scores
        _edit_segments(run / "segments.jsonl",
                       lambda rows, s=scores: [r.update(comet=float(v)) for r, v in zip(rows, s, strict=True)])
        _edit_json(run / "scores.json", lambda s, v=scores: s["metrics"].update(comet={
            "score": float(sum(v.tolist()) / len(v)), "signature": "model:Unbabel/wmt22-comet-da|rev:main",
            "higher_is_better": True, "n_scored": N_SEG,
            "metric": {"class": "mteval.metrics.comet.Comet", "settings": {"model": "Unbabel/wmt22-comet-da"}}}))
    runset = load_runset([sweep])
    comp = compare_runs(runset, ["comet"], baseline="LanguageX", n_bootstrap=300, n_ar=200, seed=9)
    m = comp.metrics[0]
    idxs = bootstrap_indices(N_SEG, 300, 9)
    for i, name in enumerate(runset.names):
        boot = np.sort(seg_scores[name][idxs].mean(axis=1))
        assert m.scores[i] == pytest.approx(seg_scores[name].mean(), abs=1e-12)
        assert m.intervals[i].mean == pytest.approx(boot.mean(), abs=1e-12)
        assert (m.intervals[i].lower, m.intervals[i].upper) == pytest.approx((boot[7], boot[292]), abs=1e-12)
    assert all(0 < p <= 1 for p in m.p_bs[1:] + m.p_ar[1:])


def test_cli_prints_the_table_and_writes_the_outputs(sweep, tmp_path, capsys):
    out = tmp_path / "out"
    main([str(sweep), "--baseline", "LanguageX", "--n-bootstrap", "200", "--n-ar", "200", "--no-report",
          "--out", str(out)])
    text = capsys.readouterr().out
    assert "| system" in text and "LanguageX (baseline)" in text and "tok:zh" in text
    assert sorted(p.name for p in out.iterdir()) == ["checks.csv", "report.md", "results.json", "table.csv"]
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert results["baseline"] == "LanguageX" and set(results["metrics"]) == {"bleu", "chrf"}
    assert results["metrics"]["bleu"]["systems"]["LanguageX"]["p_bs"] is None
    table = (out / "table.csv").read_text(encoding="utf-8").splitlines()
    assert table[0].startswith("system,baseline,bleu,bleu_mean,bleu_ci,bleu_lo,bleu_hi,bleu_p_bs,bleu_p_ar,bleu_rank")
    assert len(table) == 1 + len(SYSTEMS) and table[1].startswith("LanguageX,True,")


def test_cli_rejects_bad_sample_counts(sweep, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([str(sweep), "--n-bootstrap", "0"])
    assert exit_info.value.code == 2 and "--n-bootstrap must be at least 1" in capsys.readouterr().err


def test_a_second_comparison_of_a_sweep_gets_its_own_directory(tmp_path):
    """`make compare` after `make meta-demo` once overwrote the report that had the human section."""
    from mteval.commands.compare import default_out

    sweep = tmp_path / "sweep"
    (sweep / "0_a").mkdir(parents=True)
    assert default_out([str(sweep)]) == sweep / "compare"
    (sweep / "compare").mkdir()
    (sweep / "compare" / "agreement.csv").write_text("metric\n", encoding="utf-8")
    (sweep / "compare" / "results.json").write_text("{}", encoding="utf-8")
    second = default_out([str(sweep)])
    assert second.parent == sweep and second.name.startswith("compare-") and not second.exists()
    second.mkdir()
    assert default_out([str(sweep)]) not in (second, sweep / "compare")  # a third in the same second
