"""The acceptance check: on the 12 WMT22 zh-en submissions, ``mteval-compare --human`` gives the
system-level Pearson, Kendall tau and pairwise accuracy of BLEU and chrF against the WMT22 DA
z-scores that scipy gives on scores computed here directly from the mirror's files."""
from __future__ import annotations

import json
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
import sacrebleu
from scipy.stats import kendalltau, pearsonr

from mteval.bench.compare import ZH_EN_SUBMISSIONS, build_submission_runs
from mteval.commands.compare import main
from tests.helpers import WMT22_MIRROR

pytestmark = pytest.mark.slow

WMT22 = WMT22_MIRROR  # the mirror's plain text, read independently of the runs built through sacrebleu
HUMAN = WMT22 / "humaneval" / "zh-en"


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def _da(name: str, key: int) -> dict:
    """The DA file read independently: ``{(system, SID or None): z}``."""
    out = {}
    for line in _lines(HUMAN / name)[1:]:
        f = line.split()
        sys_col, sid = (f[3], None) if key == 0 else (f[0], int(f[1]))
        out[(sys_col.rsplit(".", 1)[0], sid)] = float(f[1] if key == 0 else f[3])
    return out


@pytest.fixture(scope="module")
def result(wmt22_human, tmp_path_factory):
    root = tmp_path_factory.mktemp("zhen")
    build_submission_runs(root / "runs", ZH_EN_SUBMISSIONS, langpair="zh-en")
    main([str(root / "runs"), "--metrics", "bleu,chrf", "--n-bootstrap", "200", "--n-ar", "0", "--no-report",
          "--human", str(HUMAN / "ad-sys-scores-zh-en.csv"), "--human", str(HUMAN / "ad-seg-scores-zh-en.csv"),
          "--human-segments", "line", "--out", str(root / "out")])
    result = json.loads((root / "out" / "results.json").read_text())["human"]
    result["report"] = (root / "out" / "report.md").read_text()
    return result


def test_system_level_agreement_equals_scipy(result):
    ref = _lines(WMT22 / "zh-en" / "generaltest2022.zh-en.ref.A.en")
    hyps = {s: _lines(WMT22 / "zh-en" / "system-outputs" / f"generaltest2022.zh-en.hyp.{s}.en")
            for s in ZH_EN_SUBMISSIONS}
    z = _da("ad-sys-scores-zh-en.csv", 0)
    human = np.array([z[(s, None)] for s in ZH_EN_SUBMISSIONS])
    assert result["human_scores_without_run"] == ["HUMAN-B"] and result["runs_without_human_score"] == []
    for name, fn in (("bleu", sacrebleu.corpus_bleu), ("chrf", sacrebleu.corpus_chrf)):
        metric = np.array([fn(hyps[s], [ref]).score for s in ZH_EN_SUBMISSIONS])
        pairs = list(combinations(range(len(metric)), 2))
        acc = sum(np.sign(metric[i] - metric[j]) == np.sign(human[i] - human[j]) for i, j in pairs) / len(pairs)
        got = result["metrics"][name]
        assert got["pearson"]["value"] == pytest.approx(pearsonr(metric, human).statistic, abs=1e-12)
        assert got["kendall"]["value"] == pytest.approx(kendalltau(metric, human).statistic, abs=1e-12)
        assert got["pairwise_accuracy"]["value"] == pytest.approx(acc, abs=1e-12)
        for stat in ("pearson", "kendall", "pairwise_accuracy", "segment_kendall"):
            assert got[stat]["lower"] <= got[stat]["value"] + 1e-9 and got[stat]["upper"] >= got[stat]["value"] - 1e-9
    # Measured (BLEU r 0.640, tau 0.576, acc 0.788; chrF r 0.571, tau 0.455, acc 0.727): recorded in docs/compare-and-gate.md.
    assert result["metrics"]["bleu"]["pearson"]["value"] == pytest.approx(0.640, abs=1e-3)
    assert result["metrics"]["chrf"]["kendall"]["value"] == pytest.approx(0.4545, abs=1e-3)


def test_segment_level_tau_equals_scipy_on_line_numbered_sids(result):
    ref = _lines(WMT22 / "zh-en" / "generaltest2022.zh-en.ref.A.en")
    chrf = sacrebleu.CHRF()
    xs, ys = [], []
    for (system, sid), z in _da("ad-seg-scores-zh-en.csv", 1).items():
        if system in ZH_EN_SUBMISSIONS:  # HUMAN-B has no run
            hyp = _lines(WMT22 / "zh-en" / "system-outputs" / f"generaltest2022.zh-en.hyp.{system}.en")[sid - 1]
            xs.append(chrf.sentence_score(hyp, [ref[sid - 1]]).score)
            ys.append(z)
    got = result["metrics"]["chrf"]
    assert got["segment_cells"] == len(xs) == 19234
    assert got["segment_kendall"]["value"] == pytest.approx(kendalltau(xs, ys).statistic, abs=1e-9)
    # SID read as the line number agrees with chrF barely above chance (tau about 0.02): see WMT_SID_HINT.
    assert abs(got["segment_kendall"]["value"]) < 0.05
    assert "Segment tau of BLEU, chrF is below 0.05, about chance" in result["report"]
