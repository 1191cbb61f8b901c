"""The comparison report: Markdown table for the terminal, self-contained HTML with inline plots."""
from __future__ import annotations

import base64
import logging
import re
import warnings

import numpy as np
import pytest

from mteval.bench.compare import build_submission_runs
from mteval.compare.comparison import compare_runs
from mteval.compare.load import load_runset
from mteval.report import fonts, plots
from mteval.report.html import html_report
from mteval.report.labels import pipe_table
from mteval.report.markdown import markdown_report
from mteval.report.worst import MIN_LENGTH, primary_metric, segment_length, worst_segments
from mteval.text.checks import CHECKS, DESCRIPTIONS

SYSTEMS = ("LanguageX", "Online-G", "DLUT")


@pytest.fixture(scope="module")
def comparison(wmt22, tmp_path_factory):
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
    body = lines[lines.index(header) + 2:]
    rows = body[:next(k for k, line in enumerate(body) if not line.startswith("| "))]  # the main table only
    assert len(rows) == len(SYSTEMS) and rows[0].startswith("| LanguageX (baseline)")
    # The baseline has no p-values; every other system has both, as 4-decimal numbers.
    assert re.search(r"\| +- +\| +- +\|", rows[0])
    assert all(len(re.findall(r"\b0\.\d{4}\*?", r)) >= 4 for r in rows[1:])
    assert "100 bootstrap resamples, 100 approximate-randomisation trials, seed 12345" in text
    assert "- BLEU: `nrefs:1|case:mixed|eff:no|tok:zh|smooth:exp|version:" in text
    assert lines[-1] == "HTML report: /x/report.html"


def _figure(monkeypatch, plot, comparison):
    """The matplotlib figure a plot function draws (instead of its PNG)."""
    figures = []
    monkeypatch.setattr(plots, "_png", lambda fig: figures.append(fig) or b"")
    plot(comparison)
    return figures[0]


def test_plots_are_png(comparison):
    for png in (plots.scores_with_ci(comparison), plots.win_tie_loss(comparison)):
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000


def test_each_ci_panel_is_sorted_by_its_own_metric(comparison, monkeypatch):
    # chrF read as lower-is-better orders the systems unlike BLEU, as two metrics can.
    monkeypatch.setattr(comparison.metrics[1], "higher_is_better", False)
    fig = _figure(monkeypatch, plots.scores_with_ci, comparison)
    for ax, m in zip(fig.axes, comparison.metrics, strict=True):
        ticks = sorted(zip(ax.get_yticks(), (t.get_text() for t in ax.get_yticklabels())), reverse=True)
        shown = [name for _, name in ticks]  # top to bottom
        scores = [m.scores[comparison.names.index(name)] for name in shown]
        assert scores == sorted(scores, reverse=m.higher_is_better), (m.name, shown)


def test_win_tie_loss_counts_pair_segments_with_the_baseline(comparison):
    rs = comparison.runset
    base_hyps = rs.hyps(comparison.baseline)
    for m in comparison.metrics:
        counts = plots.paired_counts(comparison, m)
        assert set(counts) == {i for i in range(len(SYSTEMS)) if i != comparison.baseline}
        for i, c in counts.items():
            assert sum(c.values()) == rs.n_segments
            identical = sum(a == b for a, b in zip(rs.hyps(i), base_hyps, strict=True))
            assert c["same"] >= identical  # the same output scores the same
            assert c["better"] > 0 and c["worse"] > 0
        # The systems differ: not every system has the same counts (the old box plots looked alike).
        assert len({tuple(c.values()) for c in counts.values()}) == len(counts)


def test_plots_with_chinese_names_use_a_cjk_font(comparison, monkeypatch, caplog):
    if fonts.cjk_family() is None:
        pytest.skip("no CJK font installed (Debian: apt-get install fonts-noto-cjk)")
    monkeypatch.setattr(comparison.runset, "names", ["语言X", "在线G", "大连理工"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph ... missing from font(s)" for tofu
        plots.scores_with_ci(comparison)
    monkeypatch.setattr(fonts, "cjk_family", lambda: None)
    fonts._warn_no_font.cache_clear()
    with pytest.warns(UserWarning, match="missing from font"), caplog.at_level(logging.WARNING):
        plots.win_tie_loss(comparison)
    assert "fonts-noto-cjk" in caplog.text


def test_html_is_self_contained_with_tables_and_images(comparison):
    page = html_report(comparison, worst=3)
    assert page.startswith("<!DOCTYPE html>") and "<meta charset='utf-8'>" in page
    images = re.findall(r'<img alt="([^"]+)" src="data:image/png;base64,([A-Za-z0-9+/=]+)">', page)
    assert [alt for alt, _ in images] == ["scores with 95% intervals", "segments against the baseline"]
    assert all(base64.b64decode(data)[:4] == b"\x89PNG" for _, data in images)
    # Nothing is fetched: the one link is checks.csv beside the page.
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", page)
    assert re.findall(r"href='([^']*)'", page) == ["checks.csv"]
    # summary, checks, a worst table per system, a list per failing check, the segment browser (scripts aside);
    # per metric a domain table, the documents with the widest spread, and all documents folded
    markup = re.sub(r"<script.*?</script>", "", page, flags=re.S)
    assert markup.count("<table") == 1 + 1 + len(SYSTEMS) + page.count("<details><summary>") + 1 + len(
        re.findall(r"<table (class='pairs'|id='metric-correlations'|id='rank-shifts')", markup)) + 3 * len(
        comparison.metrics)
    assert "LanguageX (baseline)" in page and "Worst segments" in page
    assert "<td class='text' lang='zh-Hans'>" in page and "<script>alert" not in page


def test_chinese_cells_are_marked_and_get_a_cjk_font_stack(comparison):
    page = html_report(comparison)
    cells = re.findall(r"<td class='text[^']*' lang='([^']+)'>(.*?)</td>", page, re.S)
    assert cells
    for lang, text in cells:
        assert (lang == "zh-Hans") == bool(re.search(r"[\u4e00-\u9fff]", text)) or lang == "en", (lang, text)
    assert {lang for lang, _ in cells} == {"en", "zh-Hans"}
    assert "<html lang='en'>" in page
    # Several CJK faces (Linux, macOS, Windows), first for Chinese text, after the Latin ones elsewhere.
    zh_rule = re.search(r":lang\(zh\)[^{]*\{font-family:([^}]*)\}", page).group(1)
    assert zh_rule.startswith('"Noto Sans CJK SC"')
    for face in ("PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei"):
        assert f'"{face}"' in zh_rule
    assert fonts.has_cjk(["中文"]) and not fonts.has_cjk(["Latin only"])


def test_worst_segments_are_long_distinct_and_low(comparison):
    m, picks = worst_segments(comparison, 3)
    assert m.name == "chrf"
    rs = comparison.runset
    shown = [w.seg for rows in picks.values() for w in rows]
    assert all(len(rows) == 3 for rows in picks.values())
    assert len({rs.srcs[s] for s in shown}) == len(shown)  # no sentence shown for two systems
    assert all(segment_length(rs.refs[s][0], "zh") >= MIN_LENGTH["cjk"] for s in shown)
    for i, rows in picks.items():
        mine = [row["chrf"] for row in rs.runs[i].segments]
        for w in rows:
            assert w.score == mine[w.seg] and w.score <= np.quantile(mine, 0.5)
            assert w.score < w.median  # worse than the typical system on that segment
            if i == comparison.baseline:
                assert w.other != i and w.other_score == max(rs.runs[j].segments[w.seg]["chrf"]
                                                             for j in range(len(SYSTEMS)) if j != i)
            else:
                assert w.other == comparison.baseline
                assert w.other_score == rs.runs[w.other].segments[w.seg]["chrf"]


def test_worst_segments_prefer_a_model_based_metric(comparison, monkeypatch):
    bleu = comparison.metrics[0]
    monkeypatch.setattr(bleu, "model_based", True)
    assert primary_metric(comparison) is bleu


def test_worst_segments_show_the_baseline_beside_each(comparison):
    page = html_report(comparison, worst=3)
    section = page[page.index("<h2>Worst segments</h2>"):page.index("<h2>Output checks</h2>")]
    _, picks = worst_segments(comparison, 3)
    rows = re.findall(r"<tr><td>(.*?)</tr>", section, re.S)
    assert len(rows) == 3 * len(SYSTEMS)
    shaded = [r for r in rows if "class='text better'" in r]
    better = [w for i, ws in picks.items() for w in ws if w.other_score > w.score]
    assert len(shaded) == len(better) > 0


def test_checks_are_grouped_by_system_most_affected_first(comparison):
    page = html_report(comparison, check_rows=2)
    counts = comparison.check_counts()
    lists = re.findall(r"<details><summary>(.*?)</summary>(.*?)</details>", page, re.S)
    assert lists
    by_name = dict(zip(comparison.names, counts, strict=True))
    for summary, body in lists:
        groups = re.findall(r"<tr class='group'><th colspan='4'>(.*?): (\d+) segments?", body)
        check = next(c for c in CHECKS if summary.startswith(DESCRIPTIONS[c]))
        assert [int(n) for _, n in groups] == sorted((int(n) for _, n in groups), reverse=True)
        assert all(by_name[name][check] == int(n) for name, n in groups)
        assert f"most in {groups[0][0]} ({groups[0][1]})" in summary
        # At most check_rows rows per system.
        for part in re.split(r"<tr class='group'>", body)[1:]:
            assert part.count("<tr><td>") <= 2
    assert "<a href='checks.csv'>checks.csv</a>" in page


def test_html_without_domains_or_documents_leaves_their_sections_out(comparison, monkeypatch):
    for m in comparison.metrics:
        monkeypatch.setattr(m, "partitions", {})
    page = html_report(comparison)
    assert page.count("<img ") == 2 and "Scores by domain" not in page and "Documents where" not in page
    assert " by domain" not in markdown_report(comparison)
