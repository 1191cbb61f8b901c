"""The segment browser's embedded data: compact, complete, and safe inside the page's <script>."""
from __future__ import annotations

import json
import re

import pytest

from mteval.compare.comparison import compare_runs
from mteval.compare.load import load_runset
from mteval.metrics.sacre import BLEU, ChrF
from mteval.report.browser import browser_section, segment_data
from mteval.report.html import html_report
from mteval.testing.runs import text_run

REFS = ["今天天气很好。", "我们明天见。", "这本书很有意思，我读了两遍。", "请把门关上。"]
HOSTILE = "</script><script>alert(1)</script> 𠀀 <!-- x"


@pytest.fixture(scope="module")
def comparison(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    good = text_run(root / "good", REFS, REFS, metrics=[BLEU(), ChrF()], srcs=[HOSTILE, "b", "c", "d"])
    bad = text_run(root / "bad", ["今天天气好", "", "这本书很有意思。", "Close the door."], REFS,
                   metrics=[BLEU(), ChrF()], srcs=[HOSTILE, "b", "c", "d"])
    return compare_runs(load_runset([good, bad]), ["bleu", "chrf"], n_bootstrap=50, n_ar=0)


def _embedded(page: str) -> dict:
    found = re.search(r"<script type='application/json' id='seg-data'>(.*?)</script>", page, re.S)
    assert found, "no segment data in the page"
    return json.loads(found.group(1))


def test_every_segment_and_system_is_there_each_text_once(comparison):
    data = segment_data(comparison)
    runs = comparison.runset.runs
    assert data["sys"] == ["good", "bad"] and data["src"][0] == HOSTILE and data["ref"] == REFS
    assert data["hyp"][1][3] == "Close the door." and len(data["hyp"]) == 2
    bleu = data["metrics"][0]
    assert bleu["label"] == "BLEU" and bleu["hib"] is True
    assert bleu["s"][1] == [round(r["bleu"], bleu["d"]) for r in runs[1].segments]
    # Failed checks, sparse: [segment, check index, detail]; the empty and the Latin outputs of "bad".
    checks = [c[0] for c in data["checks"]]
    flagged = {(k, checks[c]) for k, c, _ in data["flags"][1]}
    assert {(1, "empty"), (3, "off-tgt")} <= flagged and data["flags"][0] == []
    assert data["domains"] == [] and data["docs"] == [] and data["dom"] == [-1] * 4


def test_texts_cannot_close_the_script_and_the_page_is_one_file(comparison):
    page = html_report(comparison)
    section = browser_section(comparison)
    # Only the page's own scripts end: the hostile source's </script> is escaped inside the JSON.
    assert section.count("</script>") == 2 and "<!--" not in section.split("id='seg-data'>")[1].split("</script>")[0]
    assert _embedded(page)["src"][0] == HOSTILE  # and it reads back intact, the astral character included
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", page)
    assert "function marked(" in page and "table.sortable" in page  # the scripts are inlined, not linked
