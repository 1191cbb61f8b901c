"""The suite's tiers are facts: tests on tiny models are ``slow``, tests on WMT22 are ``wmt22``; without WMT22 text
they skip with one reason, and with CI=true that absence fails the run instead."""
from __future__ import annotations

import os
import socket
import subprocess
import sys

from mteval.testing.wmt22 import NEEDS
from tests import conftest
from tests.helpers import ROOT

WMT22_TESTS = ["tests/unit/data/test_data.py::test_wmt_xml_documents_domains_and_references",  # the fixture
               "tests/contract/test_config.py::test_every_dataset_loads[wmt22_en_zh]"]  # the marker alone
TABLE_TEST = "tests/unit/text/test_text.py::test_join_sentences"


class Item:
    """What the collection hook reads and writes of a pytest item."""

    def __init__(self, *fixturenames: str):
        self.fixturenames = fixturenames
        self.marks: list[str] = []

    def add_marker(self, mark) -> None:
        self.marks.append(mark.name)


def test_fixtures_set_the_markers():
    items = [Item("tiny_models", "tmp_path"), Item("wmt22"), Item("wmt22_human", "wmt22"), Item("tmp_path")]
    conftest.pytest_collection_modifyitems(None, items)
    assert [i.marks for i in items] == [["slow"], ["wmt22"], ["wmt22"], []]


def run_without_wmt22(tmp_path, **env: str) -> subprocess.CompletedProcess:
    """pytest where no source has WMT22: no mirror, an empty sacrebleu cache, and a network that refuses
    (a proxy on a closed local port), so the download is ruled out at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        proxy = f"http://127.0.0.1:{s.getsockname()[1]}"
    (tmp_path / "sacrebleu").mkdir()
    base = {k: v for k, v in os.environ.items() if k not in ("CI", "NO_PROXY", "no_proxy")}
    env = {**base, "MTEVAL_SHARED": str(tmp_path / "no-mirror"), "SACREBLEU": str(tmp_path / "sacrebleu"),
           "HTTPS_PROXY": proxy, "https_proxy": proxy, "HTTP_PROXY": proxy, "http_proxy": proxy, **env}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", *WMT22_TESTS,
                           TABLE_TEST], capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)


def test_without_wmt22_its_tests_skip_with_one_reason(tmp_path):
    proc = run_without_wmt22(tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "1 passed, 2 skipped" in proc.stdout
    reasons = [line for line in proc.stdout.splitlines() if line.startswith("SKIPPED")]
    assert len(reasons) == 1 and reasons[0].startswith("SKIPPED [2] ") and reasons[0].endswith(NEEDS), reasons


def test_with_ci_true_missing_wmt22_fails_the_run(tmp_path):
    proc = run_without_wmt22(tmp_path, CI="true")
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "1 passed, 2 errors" in proc.stdout
    assert proc.stdout.count(f"CI=true and the data is missing: {NEEDS}") >= 2
