"""Meta-evaluation: the agreement statistics on known values, human score files, name matching, direction, the CLI."""
from __future__ import annotations

import json

import numpy as np
import pytest

from mteval.compare.agreement import agree_with_humans
from mteval.commands.compare import main
from mteval.compare.comparison import compare_runs
from mteval.compare.human import align_human, read_human
from mteval.compare.load import load_runset
from mteval.compare.meta import kendall_tau, pairwise_accuracy, pearson, segment_kendall
from mteval.errors import InputError
from mteval.stats.intervals import percentile_ci
from mteval.metrics.sacre import BLEU, TER
from mteval.testing.runs import text_run

NAN = float("nan")

# metric, human, Pearson r, Kendall tau-b, pairwise accuracy (worked by hand).
KNOWN = [
    ([1, 2, 3], [10, 20, 30], 1.0, 1.0, 1.0),
    ([3, 2, 1], [1, 2, 3], -1.0, -1.0, 0.0),
    # one discordant pair of six: tau (5 - 1) / 6; centred products 2.25 - 0.25 - 0.25 + 2.25 over 5.
    ([1, 2, 3, 4], [1, 3, 2, 4], 0.8, 2 / 3, 5 / 6),
    # a metric tie: tau-b = 2 / sqrt(2 * 3); the tied pair is not ordered as the humans order it.
    ([1, 1, 2], [1, 2, 3], np.sqrt(3) / 2, 2 / np.sqrt(6), 2 / 3),
    # both tie the same pair: that pair agrees.
    ([1, 1, 2], [5, 5, 9], 1.0, 1.0, 1.0),
    # a constant metric orders nothing: correlations undefined, every untied human pair missed.
    ([2, 2, 2], [1, 2, 3], NAN, NAN, 0.0),
]


@pytest.mark.parametrize(("metric", "human", "r", "tau", "acc"), KNOWN)
def test_system_statistics_known_values(metric, human, r, tau, acc):
    assert pearson(np.array(metric), np.array(human)) == pytest.approx(r, nan_ok=True)
    assert kendall_tau(np.array(metric), np.array(human)) == pytest.approx(tau, nan_ok=True)
    assert pairwise_accuracy(np.array(metric), np.array(human)) == pytest.approx(acc)


def test_statistics_batch_over_resamples_and_match_scipy():
    from scipy.stats import kendalltau, pearsonr

    rng = np.random.default_rng(0)
    metric, human = rng.normal(size=(50, 9)), rng.normal(size=(50, 9))
    metric[:, 3] = metric[:, 4]  # ties
    rs, taus = pearson(metric, human), kendall_tau(metric, human)
    assert rs.shape == taus.shape == (50,)
    for k in range(50):
        assert rs[k] == pytest.approx(pearsonr(metric[k], human[k]).statistic)
        assert taus[k] == pytest.approx(kendalltau(metric[k], human[k]).statistic)


def test_segment_kendall_leaves_out_unscored_cells():
    metric = np.array([[1.0, 2.0, NAN], [3.0, 4.0, 9.0]])
    human = np.array([[1.0, 2.0, 5.0], [3.0, NAN, 0.0]])
    # Cells scored by both: (1, 1), (2, 2), (3, 3), (9, 0): concordant 3, discordant 3 -> 0.
    assert segment_kendall(metric, human) == pytest.approx(0.0)
    assert np.isnan(segment_kendall(metric[:, 2:], human[:, 2:]))  # one cell scored by both: undefined


def test_percentile_interval():
    assert percentile_ci(np.arange(101.0)) == pytest.approx((2.5, 97.5))
    assert percentile_ci(np.array([NAN, 1.0, 1.0])) == (1.0, 1.0)


# Four systems of falling quality on six segments: each keeps fewer reference words.
REFS = ["the cat sat on the mat today", "a quick brown fox jumps over it", "we will meet again next week",
        "rain is expected in the north", "the market closed higher on friday", "she reads a book every night"]


def _degraded(keep: int) -> list[str]:
    return [" ".join(r.split()[:keep]) for r in REFS]


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    """Runs A (best) to D (worst) scored with BLEU (higher better) and TER (lower better)."""
    root = tmp_path_factory.mktemp("toy")
    for i, (name, keep) in enumerate((("A", 7), ("B", 6), ("C", 5), ("D", 4))):
        text_run(root / f"{i}_{name}", _degraded(keep), REFS, metrics=[BLEU(), TER()], system=name, tgt_lang="en")
    return root


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_direction_is_honoured_for_lower_is_better_metrics(toy, tmp_path):
    rs = load_runset([toy])
    comp = compare_runs(rs, ["bleu", "ter"], n_bootstrap=50, n_ar=0, seed=1)
    human = _write(tmp_path / "h.csv", "system,score\nA,0.9\nB,0.5\nC,0.1\nD,-0.4\n")
    ag = agree_with_humans(comp, align_human(read_human([human]), rs))
    for m in ag.metrics:
        assert m.stats["kendall"].value == pytest.approx(1.0), m.name
        assert m.stats["pairwise_accuracy"].value == pytest.approx(1.0), m.name
        assert m.stats["pearson"].value > 0.8, m.name
    ter = ag.metrics[1]
    assert not ter.higher_is_better and list(ter.scores) == sorted(ter.scores)  # TER rises as quality falls


def test_csv_tsv_and_wmt_formats(tmp_path):
    csv = read_human([_write(tmp_path / "a.csv", "system,score,segment\nA,1.5,\nA,2,s1\nB,3,s1\nB,5,s2\n")])
    assert csv.systems == {"A": 1.5, "B": 4.0} and csv.segments == {"A": {"s1": 2.0}, "B": {"s1": 3.0, "s2": 5.0}}
    assert csv.notes == ["B: system score = mean of its 2 segment scores"]
    tsv = read_human([_write(tmp_path / "a.tsv", "A\t0.25\nB\t-1\n")])
    assert tsv.systems == {"A": 0.25, "B": -1.0} and not tsv.segments
    sys_file = _write(tmp_path / "ad-sys.csv", "RAW.SCR Z.SCR N SYS N.ALL \n69.7 -0.02 1570 JDExploreAcademy.6 2134 \n"
                                               "73.4 0.13 1586 HUMAN-B.12 2098 \n")
    seg_file = _write(tmp_path / "ad-seg.csv", "SYS SID RAW.SCR Z.SCR N \nJDExploreAcademy.6 618 93.5 0.47 2 \n")
    wmt = read_human([sys_file, seg_file])
    assert wmt.systems == {"JDExploreAcademy": -0.02, "HUMAN-B": 0.13}
    assert wmt.segments == {"JDExploreAcademy": {"618": 0.47}} and wmt.wmt_segments


@pytest.mark.parametrize(("text", "message"), [
    ("system,score\nA,high\n", "a.csv:2: score 'high' is not a number"),
    ("system,score\nA,1\nA,2\n", "a.csv:3: a second system score for 'A'"),
    ("system,score,segment\nA,1,3\nA,2,3\n", "a.csv:3: a second score for 'A' on segment '3'"),
    ("system,value\nA,1\n", "a.csv:1: the header has no score column"),
    ("name,value\nA,1\n", "a.csv:1: score 'value' is not a number"),
    ("", "a.csv: empty human scores file"),
])
def test_bad_files_are_refused_with_file_and_line(tmp_path, text, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(")):
        read_human([_write(tmp_path / "a.csv", text)])


def test_unmatched_systems_are_reported_and_too_few_refused(toy, tmp_path):
    rs = load_runset([toy])
    h = align_human(read_human([_write(tmp_path / "h.csv", "A,1\nB,0\nC,-1\nHUMAN-B,2\n")]), rs)
    assert h.names == ["A", "B", "C"] and h.runs_only == ["D"] and h.human_only == ["HUMAN-B"]
    with pytest.raises(InputError, match="only 2 system"):
        align_human(read_human([_write(tmp_path / "h2.csv", "A,1\nB,0\nZ,-1\n")]), rs)


def test_segment_keys_ids_lines_and_wmt_sids(toy, tmp_path):
    rs = load_runset([toy])
    rows = "".join(f"{s},{q},{k}\n" for s, q in zip("ABCD", (3, 2, 1, 0), strict=True) for k in (1, 2, 7))
    f = _write(tmp_path / "seg.csv", rows)
    by_line = align_human(read_human([f]), rs, segment_key="line")
    assert by_line.unmapped == 4 and by_line.segments.shape == (4, 6)  # segment 7 is past the 6 segments
    assert by_line.segments[0, :2].tolist() == [3.0, 3.0] and np.isnan(by_line.segments[0, 2])
    by_id = align_human(read_human([f]), rs)  # text_run ids are "1".."6", so ids and lines coincide here
    assert by_id.unmapped == 4
    with pytest.raises(InputError, match="no human segment score names a segment"):
        align_human(read_human([_write(tmp_path / "bad.csv", "A,1,x\nB,2,y\nC,3,z\n")]), rs)
    wmt = _write(tmp_path / "ad-seg.csv", "SYS SID RAW.SCR Z.SCR N\nA.1 1 50 0.1 1\nB.2 1 40 0 1\nC.3 1 30 -1 1\n")
    with pytest.raises(InputError, match="--human-segments line"):
        align_human(read_human([wmt]), rs)
    assert align_human(read_human([wmt]), rs, segment_key="line").segments[2, 0] == -1.0


def test_segment_level_tau_and_human_resampling(toy, tmp_path):
    rs = load_runset([toy])
    comp = compare_runs(rs, ["bleu"], n_bootstrap=100, n_ar=0, seed=3)
    # Human segment scores equal to sentence BLEU: segment tau is 1 on every resample.
    rows = "".join(f"{run.system},{row['bleu']},{row['id']}\n" for run in rs.runs for row in run.segments)
    ag = agree_with_humans(comp, align_human(read_human([_write(tmp_path / "s.csv", rows)]), rs))
    seg = ag.metrics[0].stats["segment_kendall"]
    assert (seg.value, seg.lower, seg.upper) == (pytest.approx(1.0), pytest.approx(1.0), pytest.approx(1.0))
    assert ag.metrics[0].n_cells == 24


def test_undefined_statistics_are_null_in_results_json(toy, tmp_path):
    from mteval.compare.table import record

    rs = load_runset([toy])
    comp = compare_runs(rs, ["bleu"], n_bootstrap=20, n_ar=0, seed=1)
    # Humans tie every system: correlations are undefined, and results.json says null, not NaN.
    comp.agreement = agree_with_humans(comp, align_human(read_human([_write(tmp_path / "h.csv", "A,1\nB,1\nC,1\n")]),
                                                         rs))
    text = json.dumps(record(comp), allow_nan=False)
    assert json.loads(text)["human"]["metrics"]["bleu"]["pearson"] == {"value": None, "lower": None, "upper": None}


def test_cli_writes_agreement_and_refuses_bad_human_file(toy, tmp_path, capsys):
    human = _write(tmp_path / "h.tsv", "system\tscore\nA\t3\nB\t2\nC\t1\nD\t0\nHUMAN-B\t4\n")
    out = tmp_path / "out"
    main([str(toy), "--n-bootstrap", "50", "--n-ar", "0", "--human", str(human), "--out", str(out)])
    text = capsys.readouterr().out
    assert "### Agreement with human scores" in text and "HUMAN-B: a human reference judged as a system" in text
    record = json.loads((out / "results.json").read_text())
    assert record["human"]["human_scores_without_run"] == ["HUMAN-B"]
    assert record["human"]["metrics"]["bleu"]["kendall"]["value"] == pytest.approx(1.0)
    assert "pearson_lo" in (out / "agreement.csv").read_text()
    assert (out / "table.csv").read_text().splitlines()[0].split(",").count("human") == 1
    html = (out / "report.html").read_text()
    assert "id='agreement'" in html and 'alt="metric against human scores"' in html
    with pytest.raises(SystemExit) as exit_info:
        main([str(toy), "--n-ar", "0", "--human", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "o2")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "missing.csv: human scores file not found" in err[0]
