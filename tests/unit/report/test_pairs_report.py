"""Every pair and the metrics' disagreement in the report: Markdown, HTML heatmaps, table marker, JSON, CLI."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest

from mteval.bench.compare import build_submission_runs
from mteval.commands.compare import main
from mteval.compare.comparison import compare_runs
from mteval.compare.disagreement import disagreement
from mteval.compare.load import load_runset
from mteval.compare.table import record
from mteval.report.disagree import SHIFT_SIGN
from mteval.report.html import html_report
from mteval.report.markdown import markdown_report
from mteval.stats.clusters import rank_clusters
from mteval.stats.holm import holm_matrix

SYSTEMS = ("LanguageX", "HuaweiTSC", "JDExploreAcademy", "Online-G")


@pytest.fixture(scope="module")
def sweep(wmt22, tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep")
    build_submission_runs(out, SYSTEMS, limit=150)
    return out


@pytest.fixture(scope="module")
def comparison(sweep):
    return compare_runs(load_runset([sweep]), ["bleu", "chrf"], baseline="LanguageX", n_bootstrap=200, n_ar=300)


def test_clusters_come_from_the_holm_adjusted_randomisation_matrix(comparison):
    for m in comparison.metrics:
        t = m.pairs
        assert (t.p_ar_holm == holm_matrix(t.p_ar)).all() and (t.p_bs_holm == holm_matrix(t.p_bs)).all()
        assert (m.ranks == rank_clusters(m.scores, t.p_ar_holm, higher_is_better=True)).all()
        base = comparison.baseline
        assert [m.p_ar[i] for i in range(4) if i != base] == [t.p_ar[base, i] for i in range(4) if i != base]
        # HuaweiTSC and JDExploreAcademy are close: uncorrected and corrected p differ, and both are > 0.05.
        assert t.p_ar[1, 2] > 0.05 and t.p_ar_holm[1, 2] >= t.p_ar[1, 2]
        assert (t.wins + t.ties + t.losses)[1, 2] == 150


def test_markdown_has_one_matrix_set_per_metric_stating_the_family(comparison):
    text = markdown_report(comparison)
    for label in ("BLEU", "chrF"):
        section = text.split(f"### {label}: every pair (row minus column)")[1].split("###")[0]
        assert "Holm-Bonferroni correction over the 6 pairs of the 4 systems" in section
        assert "Difference and p ar:" in section and "p bs:" in section and "Segments won/tied/lost" in section
        assert "With 200 paired bootstrap resamples" not in section  # 6 / 201 < 0.05: Holm has room
    m, names = comparison.metrics[0], comparison.names
    t = m.pairs
    row = next(line for line in text.splitlines() if re.match(r"\| 1 +\| LanguageX", line))
    other = names.index("Online-G")
    star = "*" if t.p_ar_holm[0, other] < 0.05 else ""
    assert f"{t.diff[0, other]:+.2f} {t.p_ar[0, other]:.4f}{star}" in row
    assert "every pair" not in markdown_report(comparison, pairs=False)


def test_html_heatmap_colours_by_side_and_significance(comparison):
    page = html_report(comparison)
    tables = re.findall(r"<table class='pairs' data-metric='(\w+)'>(.*?)</table>", page, re.S)
    assert [name for name, _ in tables] == ["bleu", "chrf"]
    cells = re.findall(r"<td class='num' style='background:(#\w+)' title='([^']*)'>([+-][\d.]+)(\*?)", tables[0][1])
    assert len(cells) == 12
    for fill, title, diff, star in cells:
        better = float(diff) > 0
        strong = {True: "#7cc47a", False: "#e07b6f"}[better]
        assert (fill == strong) == (star == "*"), title
        assert "p ar" in title and "Holm" in title and "segments won" in title
    assert "Every pair of systems" in page and "Where the metrics disagree" in page


def test_flagged_systems_are_marked_in_the_table_and_listed(comparison):
    names = comparison.names
    # Pretend chrF ranks Online-G first: it moves three places.
    good = np.vstack([comparison.metrics[0].scores, comparison.metrics[1].scores])
    good[1, names.index("Online-G")] = 100
    comp = comparison
    saved, comp.disagreement = comp.disagreement, disagreement(["bleu", "chrf"], good, min_shift=3)
    try:
        page = html_report(comp)
        summary = re.search(r"<table id='summary'[^>]*>(.*?)</table>", page, re.S).group(1)
        marked = re.findall(r"<td[^>]*>([^<]*) <span class='rank-shift'[^>]*title='([^']*)'", summary)
        assert [name for name, _ in marked] == ["Online-G"] and "place 1 by chrF, place 4 by BLEU" in marked[0][1]
        shifts = re.search(r"<table id='rank-shifts'>(.*?)</table>", page, re.S).group(1)
        assert "Online-G" in shifts and ">3</td>" in shifts
        assert f"differs by 3 or more between metrics (marked {SHIFT_SIGN}" in markdown_report(comp)
    finally:
        comp.disagreement = saved


def test_record_carries_the_matrices_and_the_disagreement(comparison):
    rec = json.loads(json.dumps(record(comparison)))
    pairs = rec["metrics"]["bleu"]["pairs"]
    assert pairs["correction"] == "holm" and pairs["family"] == 6 and pairs["clusters_from"] == "p_ar_holm"
    assert np.array(pairs["p_ar"]).shape == (4, 4) and pairs["wins"] == np.array(pairs["losses"]).T.tolist()
    assert rec["disagreement"]["correlations"][0]["metrics"] == ["bleu", "chrf"]
    assert set(rec["disagreement"]["places"]) == set(comparison.names)


def test_cli_prints_the_matrices_with_pairs_only(sweep, tmp_path, capsys):
    args = [str(sweep), "--baseline", "LanguageX", "--n-bootstrap", "100", "--n-ar", "100", "--no-report"]
    main([*args, "--out", str(tmp_path / "a")])
    plain = capsys.readouterr().out
    main([*args, "--pairs", "--out", str(tmp_path / "b")])
    full = capsys.readouterr().out
    assert "Where the metrics disagree" in plain and "every pair" not in plain
    assert "### BLEU: every pair (row minus column)" in full and "Segments won/tied/lost by the row" in full
    assert "every pair" in (tmp_path / "a" / "report.md").read_text(encoding="utf-8")
