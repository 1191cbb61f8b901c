"""The comparison report: Markdown table for the terminal, self-contained HTML with inline plots."""
from __future__ import annotations

import base64
import re

import pytest

from mteval.bench.compare import build_submission_runs
from mteval.compare.comparison import compare_runs
from mteval.compare.load import load_runset
from mteval.report import plots
from mteval.report.html import html_report
from mteval.report.markdown import markdown_report, pipe_table
from mteval.text.checks import CHECKS

SYSTEMS = ("LanguageX", "Online-G", "DLUT")


@pytest.fixture(scope="module")
def comparison(tmp_path_factory):
    """Three WMT22 submissions on the first 120 segments (all four domains)."""
    out = tmp_path_factory.mktemp("sweep")
    build_submission_runs(out, SYSTEMS, limit=120)
    return compare_runs(load_runset([out]), ["bleu", "chrf"], baseline="LanguageX", n_bootstrap=100, n_ar=100)


def test_pipe_table_aligns_columns():
    table = pipe_table(["system", "BLEU"], [["a", "1.00"], ["long name", "10.50"]])
    assert table.splitlines() == ["| system    |  BLEU |", "|-----------|------:|", "| a         |  1.00 |",
                                  "| long name | 10.50 |"]


def test_markdown_report_has_the_table_legend_and_signatures(comparison):
    text = markdown_report(comparison, html_path="/x/report.html")
    lines = text.splitlines()
    header = next(line for line in lines if line.startswith("| system"))
    cells = [c.strip() for c in header.strip("|").split("|")]
    assert cells[:6] == ["system", "BLEU", "95% CI", "p bs", "p ar", "rank"]
    assert cells[-len(CHECKS):] == ["empty", "copy", "off-tgt", "trad", "punct", "len"]
    rows = [line for line in lines if line.startswith("| ") and not line.startswith("| system")]
    assert len(rows) == len(SYSTEMS) and rows[0].startswith("| LanguageX (baseline)")
    # The baseline has no p-values; every other system has both, as 4-decimal numbers.
    assert re.search(r"\| +- +\| +- +\|", rows[0])
    assert all(len(re.findall(r"\b0\.\d{4}\*?", r)) >= 4 for r in rows[1:])
    assert "100 bootstrap resamples, 100 approximate-randomisation trials, seed 12345" in text
    assert "- BLEU: `nrefs:1|case:mixed|eff:no|tok:zh|smooth:exp|version:" in text
    assert lines[-1] == "HTML report: /x/report.html"


def test_plots_are_png(comparison):
    for png in (plots.scores_with_ci(comparison), plots.segment_distributions(comparison),
                plots.domain_scores(comparison)):
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000


def test_html_is_self_contained_with_tables_and_images(comparison):
    page = html_report(comparison, worst=3)
    assert page.startswith("<!DOCTYPE html>") and "<meta charset='utf-8'>" in page
    images = re.findall(r'<img alt="([^"]+)" src="data:image/png;base64,([A-Za-z0-9+/=]+)">', page)
    assert [alt for alt, _ in images] == ["scores with 95% intervals", "segment distributions", "scores by domain"]
    assert all(base64.b64decode(data)[:4] == b"\x89PNG" for _, data in images)
    # Nothing is fetched: no external URL in any src or href.
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", page)
    assert page.count("<table") == 1 + 1 + len(SYSTEMS) + page.count("<details><summary>")
    assert "LanguageX (baseline)" in page and "Worst segments" in page
    # Source, reference and output of a worst segment are shown, escaped.
    assert "<td class='text'>" in page and "<script>alert" not in page


def test_html_without_domains_leaves_the_domain_plot_out(comparison, monkeypatch):
    for m in comparison.metrics:
        monkeypatch.setattr(m, "domains", {})
    assert plots.domain_scores(comparison) is None
    page = html_report(comparison)
    assert page.count("<img ") == 2 and "Scores by domain" not in page
