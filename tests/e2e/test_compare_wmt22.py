"""The acceptance check: on the 13 WMT22 en-zh submissions, mteval-compare's BLEU and chrF numbers
equal ``sacrebleu --paired-bs`` (1000 resamples, seed 12345, baseline LanguageX) exactly, and every
pair's p-values equal sacrebleu's with each system of a subset as the baseline."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mteval.bench.compare import BASELINE, SUBMISSIONS, build_submission_runs, submission_file, wmt22_field
from mteval.compare.comparison import compare_runs
from mteval.compare.load import load_runset
from mteval.stats.holm import holm_matrix

pytestmark = pytest.mark.slow

SACREBLEU = str(Path(sys.executable).parent / "sacrebleu")


@pytest.fixture(scope="module")
def comparison(wmt22, tmp_path_factory):
    sweep = tmp_path_factory.mktemp("wmt22")
    build_submission_runs(sweep)
    return compare_runs(load_runset([sweep]), ["bleu", "chrf"], baseline=BASELINE, n_bootstrap=1000, n_ar=10000,
                        seed=12345, jobs=2)


def _sacrebleu(systems: list[str], *test: str) -> dict[str, dict]:
    hyps = [str(submission_file(n)) for n in systems]
    name_of = dict(zip(hyps, systems, strict=True))
    out = subprocess.run([SACREBLEU, str(wmt22_field("ref:A")), "-i", *hyps,
                          "-l", "en-zh", "-m", "bleu", "chrf", *test, "-f", "json"],
                         capture_output=True, text=True, check=True, timeout=900,
                         env={**os.environ, "SACREBLEU_SEED": "12345"})
    rows = json.loads(out.stdout)
    # sacrebleu names each row by its hypothesis file; the first one as "Baseline: <file>".
    return {name_of[row["system"].removeprefix("Baseline: ")]: row for row in rows}


def test_paired_bootstrap_equals_sacrebleu_on_13_systems(comparison):
    systems = [BASELINE] + [n for n in SUBMISSIONS if n != BASELINE]
    theirs = _sacrebleu(systems, "--paired-bs", "--paired-bs-n", "1000")
    assert len(theirs) == 13
    for m, key in zip(comparison.metrics, ("BLEU", "chrF2"), strict=True):
        for i, name in enumerate(comparison.names):
            t = theirs[name][key]
            ours = {"score": m.scores[i], "p_value": m.p_bs[i], "mean": m.intervals[i].mean,
                    "ci": m.intervals[i].half_width}
            assert ours == t, (name, key)
    bleu = comparison.metrics[0]
    assert bleu.scores[comparison.names.index(BASELINE)] == pytest.approx(54.346, abs=1e-3)


def test_paired_ar_equals_sacrebleu(comparison):
    systems = [BASELINE, "HuaweiTSC", "Online-G"]
    theirs = _sacrebleu(systems, "--paired-ar")
    for m, key in zip(comparison.metrics, ("BLEU", "chrF2"), strict=True):
        for name in systems[1:]:
            assert m.p_ar[comparison.names.index(name)] == theirs[name][key]["p_value"]


# Three systems whose pairwise p-values lie between 0.0001 and 0.6 on BLEU and chrF: the tests have something to decide.
PAIR_SYSTEMS = ("AISP-SJTU", "GTCOM", "HuaweiTSC")


@pytest.mark.parametrize("test", ["--paired-bs", "--paired-ar"])
def test_every_pair_equals_sacrebleu_with_each_system_as_the_baseline(comparison, test):
    """Issue 22: the all-pairs matrices hold what sacrebleu prints with each system as the baseline
    (uncorrected); the Holm-adjusted ones are holm_matrix of them, over all 78 pairs."""
    names = comparison.names
    extra = ["--paired-bs-n", "1000"] if test == "--paired-bs" else []
    for base in PAIR_SYSTEMS:
        order = [base] + [n for n in PAIR_SYSTEMS if n != base]
        theirs = _sacrebleu(order, test, *extra)
        for m, key in zip(comparison.metrics, ("BLEU", "chrF2"), strict=True):
            p = m.pairs.p_bs if test == "--paired-bs" else m.pairs.p_ar
            for name in order[1:]:
                assert p[names.index(base), names.index(name)] == theirs[name][key]["p_value"], (base, name, key)
    for m in comparison.metrics:
        p, adjusted = (m.pairs.p_bs, m.pairs.p_bs_holm) if test == "--paired-bs" else (m.pairs.p_ar, m.pairs.p_ar_holm)
        assert m.pairs.family == 78 and (adjusted == holm_matrix(p)).all()
        upper = p[np.ix_(*[[names.index(n) for n in PAIR_SYSTEMS]] * 2)][np.triu_indices(3, 1)]
        assert upper.max() < 1 and (upper > 2e-3).any()
