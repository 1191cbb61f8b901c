"""The HTML report driven in headless Chromium (DevTools protocol): sort, fold, filter, search, open a segment, print, fit 1000 px."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from mteval.bench.compare import build_submission_runs
from mteval.commands.compare import main
from mteval.testing.chromium import MISSING, Chromium, find_chromium

pytestmark = pytest.mark.browser
SYSTEMS = ("LanguageX", "HuaweiTSC", "Online-G")


def _add_span_metrics(run: Path) -> None:
    """Give a run two span-marking metrics, as XCOMET and an LLM judge store them: ``xcomet`` (chrF / 100
    per segment, a span on the output's first characters of every 5th segment) and ``llm_judge``
    (minus its errors: one major error on every 7th segment's output, and an omission in its source)."""
    scores = json.loads((run / "scores.json").read_text(encoding="utf-8"))
    rows = [json.loads(line) for line in (run / "segments.jsonl").read_text(encoding="utf-8").splitlines()]
    for k, row in enumerate(rows):
        hyp = row["hyp"]
        row["xcomet"] = round(row["chrf"] / 100, 4)
        row["xcomet_error_spans"] = [{"text": hyp[:2], "start": 0, "end": min(2, len(hyp)), "severity":
                                      ("minor", "major", "critical")[k % 3], "confidence": 0.9}] if k % 5 == 0 else []
        errors = [{"span": hyp[-3:], "category": "accuracy", "severity": "major"},
                  {"span": row["src"][:6], "category": "omission", "severity": "minor"}] if k % 7 == 0 else []
        row["llm_judge"] = -float(len(errors))
        row["llm_judge_error_spans"] = [{"text": hyp[-3:], "start": len(hyp) - 3, "end": len(hyp),
                                         "severity": "major", "category": "accuracy"}] if errors else []
        row["llm_judge_annotation"] = {"errors": errors, "score": 90.0, "weighted_errors": -float(len(errors))}
    for name, higher in (("xcomet", True), ("llm_judge", True)):
        vals = [r[name] for r in rows]
        scores["metrics"][name] = {"score": sum(vals) / len(vals), "signature": f"{name}|test", "higher_is_better": higher,
                                   "metric": {"class": f"tests.{name}", "settings": {}}}
    (run / "scores.json").write_text(json.dumps(scores), encoding="utf-8")
    (run / "segments.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


@pytest.fixture(scope="module")
def report(wmt22, tmp_path_factory) -> tuple[Path, list[list[dict]]]:
    """The report of three WMT22 submissions (150 segments, four domains), and each run's segment rows."""
    if find_chromium() is None:
        pytest.skip(MISSING)
    sweep = tmp_path_factory.mktemp("sweep")
    runs = build_submission_runs(sweep, SYSTEMS, limit=150)
    for run in runs:
        _add_span_metrics(run)
    main([str(sweep), "--baseline", "LanguageX", "--n-bootstrap", "200", "--n-ar", "200", "--out", str(sweep / "c")])
    rows = [[json.loads(x) for x in (run / "segments.jsonl").read_text(encoding="utf-8").splitlines()] for run in runs]
    return sweep / "c" / "report.html", rows


def _no_cjk_fonts(tmp_path: Path) -> dict[str, str]:
    """A fontconfig with matplotlib's DejaVu fonts only: Chinese has no font and is drawn as boxes."""
    import matplotlib

    conf = tmp_path / "fonts.conf"
    conf.write_text('<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
                    f"<dir>{Path(matplotlib.get_data_path()) / 'fonts' / 'ttf'}</dir>"
                    f"<cachedir>{tmp_path / 'fc-cache'}</cachedir></fontconfig>", encoding="utf-8")
    return {"FONTCONFIG_FILE": str(conf)}


def _keep(path: Path) -> None:
    """Keep a screenshot where CI collects artefacts (``$MTEVAL_ARTIFACTS``), besides pytest's tmp dir."""
    where = os.environ.get("MTEVAL_ARTIFACTS")
    if where:
        Path(where).mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, Path(where) / path.name)
    print(f"screenshot: {path}")


def _column(page: Chromium, col: int) -> list[str]:
    return page.eval(f"Array.from(document.querySelectorAll('#summary tbody tr:first-child')).map("
                     f"r => r.cells[{col}].getAttribute('data-v'))")


def test_main_table_sorts_from_the_keyboard_and_folds(report):
    with Chromium() as page:
        page.open(report[0].as_uri(), 1000)
        heads = page.eval("Array.from(document.querySelectorAll('#summary thead th')).map(t => t.textContent)")
        bleu, chrf = heads.index("BLEU"), heads.index("chrF")
        page.eval(f"document.querySelectorAll('#summary thead th button')[{chrf}].focus()")
        page.press("Enter", 13)
        values = [float(v) for v in _column(page, chrf)]
        assert values == sorted(values) and page.eval(
            f"document.querySelectorAll('#summary thead th')[{chrf}].getAttribute('aria-sort')") == "ascending"
        page.press("Enter", 13)
        assert [float(v) for v in _column(page, chrf)] == sorted(values, reverse=True)
        page.eval(f"document.querySelectorAll('#summary thead th button')[{bleu}].click()")
        assert [float(v) for v in _column(page, bleu)] == sorted(float(v) for v in _column(page, bleu))
        # The folded row: intervals and every check count, opened by its button (a real <button>).
        first = "document.querySelector('#summary tbody')"
        assert page.eval(f"{first}.rows[1].hidden") is True
        page.eval(f"{first}.querySelector('button.more').focus()")
        page.press("Enter", 13)
        shown = page.eval(f"[{first}.rows[1].hidden, {first}.rows[1].innerText, "
                          f"{first}.querySelector('button.more').getAttribute('aria-expanded')]")
        assert shown[0] is False and shown[2] == "true"
        assert "95% CI: BLEU" in shown[1] and "p ar: BLEU" in shown[1] and all(c in shown[1] for c in ("punct", "len", "off-tgt"))


@pytest.mark.parametrize("width", [1000, 1400])
def test_fits_the_window_and_keeps_screenshots(report, tmp_path, width):
    with Chromium() as page:
        page.open(report[0].as_uri(), width)
        page.eval("document.querySelector('#seg-table button.open').click()")
        sizes = page.eval("[document.documentElement.scrollWidth, document.documentElement.clientWidth, "
                          "document.querySelector('#summary').scrollWidth, "
                          "document.querySelector('#summary').parentNode.clientWidth, "
                          "getComputedStyle(document.querySelector('#summary td.fold')).display]")
        assert sizes[0] <= sizes[1] and sizes[2] <= sizes[3], sizes  # no horizontal scrolling, table included
        assert sizes[4] == "none"  # four metrics: intervals and p ar stay folded, even on wide screens
        shot = page.screenshot(tmp_path / f"report-{width}px.png")
    _keep(shot)
    import matplotlib.image

    pixels = matplotlib.image.imread(shot)
    assert pixels.shape[1] == width and pixels.shape[0] > 3000


def _shown(page: Chromium) -> list[int]:
    text = page.eval("document.getElementById('segments').getAttribute('data-shown')")
    return [int(k) for k in text.split(",")] if text else []


def _choose(page: Chromium, control: str, value: str) -> None:
    page.eval(f"(() => {{ const s = document.getElementById('{control}'); s.value = {json.dumps(value)}; "
              "s.dispatchEvent(new Event('change', {bubbles: true})); })()")


def test_segment_browser_filters_searches_sorts_and_opens(report):
    path, rows = report
    base, other = rows[0], rows[1]  # A = LanguageX (the baseline), B = HuaweiTSC (chosen below)
    with Chromium() as page:
        page.open(path.as_uri(), 1400)
        assert page.eval("document.getElementById('seg-count').textContent").startswith("150 of 150 segments")
        assert len(_shown(page)) == 50 and "page 1 of 3" in page.eval("document.getElementById('seg-pager').textContent")
        _choose(page, "seg-b", "1")
        domain = page.eval("Array.from(document.querySelectorAll('#seg-dom option')).find(o => "
                           "o.textContent.startsWith('news')).value")
        _choose(page, "seg-dom", domain)
        news = [k for k, r in enumerate(base) if r["domain"] == "news"]
        assert 0 < len(news) < 150 and page.eval("document.getElementById('segments').getAttribute('data-matching')") \
            == str(len(news))
        assert _shown(page) == news[:50]
        # Sorted by the difference B - A in BLEU, largest first: the segments' own BLEU, from the runs.
        _choose(page, "seg-sort", "d0")
        _choose(page, "seg-dir", "desc")
        diffs = {k: other[k]["bleu"] - base[k]["bleu"] for k in news}
        order = sorted(news, key=lambda k: (-diffs[k], k))
        assert _shown(page) == order[:50]
        # Search: a word of B's output, typed into the search box.
        k = order[0]
        needle = other[k]["hyp"][2:6]
        page.eval("document.getElementById('seg-q').focus()")
        page.type(needle)
        hits = [j for j in order if any(needle.lower() in t.lower() for t in
                                        (base[j]["src"], " ||| ".join(base[j]["refs"]), base[j]["hyp"], other[j]["hyp"]))]
        assert k in _shown(page) and _shown(page) == hits[:50]
        # Open it: every system's output with its scores, XCOMET's and the judge's spans, the judge's errors.
        page.eval(f"document.querySelector('#seg-table button.open[data-seg=\"{k}\"]').click()")
        opened = page.eval(f"(() => {{ const d = document.getElementById('seg-open-{k}'); return [d.innerText, "
                           "Array.from(d.querySelectorAll('table.seg-all tbody tr')).map(r => r.cells[0].innerText), "
                           "d.querySelectorAll('mark').length]; })()")
        text, names, marks = opened
        names = [n.split("\n")[0] for n in names]
        assert sorted(n.split(" (")[0] for n in names) == sorted(SYSTEMS)
        assert "LanguageX (A)" in names and "HuaweiTSC (B)" in names
        for run in rows:
            assert run[k]["hyp"][:10] in text and f"{run[k]['chrf']:.2f}" in text
        expected = sum(bool(r[k]["xcomet_error_spans"]) + bool(r[k]["llm_judge_error_spans"]) + 2 *
                       bool(r[k]["llm_judge_annotation"]["errors"]) for r in rows)
        assert marks == expected
        if k % 7 == 0:
            assert "omission" in text and base[k]["src"][:6] in text
        assert page.eval("document.body.getAttribute('data-cjk-glyphs')") == "24/24"


def test_segment_browser_opens_a_judged_segment(report):
    """Segment 0 has an XCOMET span and judge errors in every system: each shows in place, titled."""
    path, rows = report
    with Chromium() as page:
        page.open(path.as_uri(), 1400)
        page.eval("document.querySelector('#seg-table button.open[data-seg=\"0\"]').click()")
        marks = page.eval("Array.from(document.querySelectorAll('#seg-open-0 td.text mark')).map(m => "
                          "[m.className, m.title, m.textContent])")
    for run in rows:
        spans = run[0]["xcomet_error_spans"][0]
        assert ["minor", "minor, confidence 0.90", spans["text"]] in marks
        assert ["major", "major, accuracy", run[0]["hyp"][-3:]] in marks
        assert ["minor", "", "minor"] in marks  # the judge's omission, listed with its severity


def test_print_layout_opens_everything(report):
    with Chromium() as page:
        page.open(report[0].as_uri(), 1000)
        page.media("print")
        shown = page.eval("[getComputedStyle(document.getElementById('seg-controls')).display, "
                          "getComputedStyle(document.querySelector('#summary tr.more')).display, "
                          "getComputedStyle(document.querySelector('#summary th')).position, "
                          "getComputedStyle(document.querySelector('button.more')).display]")
        assert shown == ["none", "table-row", "static", "none"]


def test_tofu_in_the_browser_rows_is_caught_without_a_cjk_font(report, tmp_path):
    """Without a CJK font the page reports the boxes, for the rows the browser script drew as well."""
    with Chromium(env=_no_cjk_fonts(tmp_path)) as page:
        page.open(report[0].as_uri(), 1000)
        glyphs = page.eval("document.body.getAttribute('data-cjk-glyphs')")
        status = page.eval("document.getElementById('render-status').textContent")
        drawn = page.eval("document.querySelectorAll('#seg-table td[lang=\"zh-Hans\"]').length")
    distinct, total = map(int, glyphs.split("/"))
    assert total == 24 and distinct <= 2 and "empty boxes" in status and drawn == 150
