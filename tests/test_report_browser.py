"""The HTML report renders in headless Chromium: tables present, every plot decoded, a non-blank screenshot."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from mteval.bench.compare import build_submission_runs
from mteval.compare.cli import main

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    if CHROMIUM is None:
        pytest.skip("headless Chromium is not installed (Debian: apt-get install chromium)")
    sweep = tmp_path_factory.mktemp("sweep")
    build_submission_runs(sweep, ("LanguageX", "HuaweiTSC", "Online-G"), limit=150)
    out = sweep / "compare"
    main([str(sweep), "--baseline", "LanguageX", "--n-bootstrap", "200", "--n-ar", "200", "--out", str(out)])
    return out / "report.html"


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=10000"]
    return subprocess.run([CHROMIUM, *flags, *args], capture_output=True, text=True, timeout=180, check=True)


def test_tables_and_images_render(report, tmp_path):
    dom = _chromium(tmp_path, "--dump-dom", report.as_uri()).stdout
    # The page's load handler counts images with naturalWidth > 0.
    assert re.search(r'<body[^>]*data-images-loaded="3/3"', dom), dom[:500]
    assert re.search(r'<p id="render-status"></p>', dom)
    summary = re.search(r'<table id="summary">(.*?)</table>', dom, re.S)
    assert summary and summary.group(1).count("<tr") == 1 + 3 and "LanguageX (baseline)" in summary.group(1)
    assert '<table id="checks">' in dom and dom.count("<img") == 3


def test_screenshot_is_not_blank(report, tmp_path):
    import matplotlib.image

    shot = tmp_path / "shot.png"
    _chromium(tmp_path, "--window-size=1280,2400", "--hide-scrollbars", f"--screenshot={shot}", report.as_uri())
    pixels = matplotlib.image.imread(shot)[..., :3]
    assert pixels.shape[:2] == (2400, 1280)
    ink = (pixels < 0.9).any(axis=2).mean()  # share of pixels that are not (near) white
    colour = (np.ptp(pixels, axis=2) > 0.2).mean()  # share of saturated pixels: the plots
    assert ink > 0.02 and colour > 0.002, (ink, colour)
