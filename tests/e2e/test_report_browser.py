"""The HTML report in headless Chromium: tables, every plot decoded, Chinese glyphs not tofu, full-page screenshots."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from mteval.bench.compare import build_submission_runs
from mteval.commands.compare import main
from mteval.testing.chromium import Chromium

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.fixture(scope="module")
def report(wmt22, tmp_path_factory) -> Path:
    if CHROMIUM is None:
        pytest.skip("headless Chromium is not installed (Debian: apt-get install chromium)")
    sweep = tmp_path_factory.mktemp("sweep")
    build_submission_runs(sweep, ("LanguageX", "HuaweiTSC", "Online-G"), limit=150)
    out = sweep / "compare"
    main([str(sweep), "--baseline", "LanguageX", "--n-bootstrap", "200", "--n-ar", "200", "--out", str(out)])
    return out / "report.html"


def _chromium(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=10000"]
    return subprocess.run([CHROMIUM, *flags, *args], capture_output=True, text=True, timeout=180, check=True,
                          env={**os.environ, **(env or {})})


def _body(dom: str) -> dict[str, str]:
    """The data-* attributes the page's load handler sets on <body>, and #render-status's text."""
    tag = re.search(r"<body([^>]*)>", dom).group(1)
    attrs = dict(re.findall(r'data-([a-z-]+)="([^"]*)"', tag))
    attrs["status"] = re.search(r'<p id="render-status">([^<]*)</p>', dom).group(1)
    return attrs


def test_tables_and_images_render(report, tmp_path):
    dom = _chromium(tmp_path, "--dump-dom", report.as_uri()).stdout
    # The page's load handler counts images with naturalWidth > 0.
    assert _body(dom)["images-loaded"] == "2/2", dom[:500]
    summary = re.search(r'<table id="summary"[^>]*>(.*?)</table>', dom, re.S)
    # A row per system and its folded details row (intervals, checks), one group per system.
    assert summary and summary.group(1).count("<tr") == 1 + 3 * 2 and summary.group(1).count("<tbody") == 3
    assert "LanguageX (baseline)" in summary.group(1)
    assert '<table id="checks">' in dom and dom.count("<img") == 2
    assert dom.count('<table class="domains sortable">') == 2  # per metric, the domains as a table (no heatmap image)


def test_chinese_renders_as_glyphs_not_tofu(report, tmp_path):
    """The page draws 24 different Chinese characters from its cells on a canvas in their font: with
    a CJK font they have 24 shapes, as tofu they are one empty box."""
    body = _body(_chromium(tmp_path, "--dump-dom", report.as_uri()).stdout)
    distinct, total = map(int, body["cjk-glyphs"].split("/"))
    assert total == 24 and distinct == total, (
        f"Chinese text renders as tofu ({distinct} shapes for {total} characters): install a CJK font "
        "(Debian: apt-get install fonts-noto-cjk)")
    assert body["status"] == ""


def test_tofu_is_caught_without_a_cjk_font(report, tmp_path):
    """Guards the test above: with fontconfig limited to matplotlib's DejaVu fonts (no CJK), the page
    reports the boxes, to the test and to the reader."""
    import matplotlib

    conf = tmp_path / "fonts.conf"
    conf.write_text('<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
                    f"<dir>{Path(matplotlib.get_data_path()) / 'fonts' / 'ttf'}</dir>"
                    f"<cachedir>{tmp_path / 'fc-cache'}</cachedir></fontconfig>", encoding="utf-8")
    body = _body(_chromium(tmp_path, "--dump-dom", report.as_uri(), env={"FONTCONFIG_FILE": str(conf)}).stdout)
    distinct, total = map(int, body["cjk-glyphs"].split("/"))
    assert total == 24 and distinct <= 2, body
    assert "Chinese text is drawn as empty boxes" in body["status"] and "fonts-noto-cjk" in body["status"]


@pytest.mark.parametrize("width", [1000, 1400])
def test_two_metrics_fit_with_intervals_inline_when_wide(report, width):
    """`make demo`'s table (BLEU and chrF): no horizontal scrolling at 1000 px, intervals in the row from 1280 px."""
    with Chromium() as page:
        page.open(report.as_uri(), width)
        sizes = page.eval("[document.documentElement.scrollWidth, document.documentElement.clientWidth, "
                          "document.querySelector('#summary').scrollWidth, "
                          "document.querySelector('#summary').parentNode.clientWidth, "
                          "getComputedStyle(document.querySelector('#summary td.fold')).display]")
    assert sizes[0] <= sizes[1] and sizes[2] <= sizes[3], sizes
    assert sizes[4] == ("none" if width < 1280 else "table-cell")


def _artefact(path: Path) -> None:
    """Keep a screenshot where CI collects artefacts (``$MTEVAL_ARTIFACTS``), besides pytest's tmp dir."""
    where = os.environ.get("MTEVAL_ARTIFACTS")
    if where:
        Path(where).mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, Path(where) / path.name)


@pytest.mark.parametrize("view", ["", "#all"], ids=["as-opened", "all-open"])
def test_full_page_screenshot(report, tmp_path, view):
    """A screenshot of the whole page (as a reader opens it, and with every listing open), saved as a
    test artefact; it is not blank: text everywhere, colour in the plots."""
    import matplotlib.image

    uri = report.as_uri() + view
    # Measured at the screenshot's width: text wraps, and the page's height follows, by width.
    height = int(_body(_chromium(tmp_path, "--window-size=1280,1000", "--dump-dom", uri).stdout)["page-height"])
    assert 2000 < height < 16000, height
    shot = tmp_path / f"report{'-all' if view else ''}.png"
    _chromium(tmp_path, f"--window-size=1280,{height}", "--hide-scrollbars", f"--screenshot={shot}", uri)
    _artefact(shot)
    pixels = matplotlib.image.imread(shot)[..., :3]
    assert pixels.shape[:2] == (height, 1280)
    ink = (pixels < 0.9).any(axis=2).mean()  # share of pixels that are not (near) white
    colour = (np.ptp(pixels, axis=2) > 0.2).mean()  # share of saturated pixels: the plots, shaded cells
    assert ink > 0.02 and colour > 0.002, (ink, colour)
    # The bottom of the page has content too (the screenshot covers the page, not a window of it).
    assert (pixels[int(height * 0.75):] < 0.9).any(axis=2).mean() > 0.005
