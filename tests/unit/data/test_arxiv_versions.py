"""Which arXiv version a Chinese block translates (issue 20): every version paired, the clearly better one kept.

A loopback stand-in for arXiv serves several versions per id: the real abstracts of three seed
blocks (tests.helpers.ORIGINALS) and edited versions of them, or WMT22 documents.
"""
from __future__ import annotations

import json
import logging
import time

from mteval.data.arxiv_cache import ABSENT_TTL_S, ArxivCache
from mteval.data.originals import find_originals, read_id_map, summary_line
from mteval.data.originals_versions import VERSION_MARGIN
from mteval.data.seeds import block_id, page_paths, read_pages
from mteval.testing.arxiv_server import FakeArxiv
from tests.helpers import ORIGINALS, ROOT, client, corpus, known_originals

EMERGENT, XPLIQUE, IMPUTE = (ORIGINALS[k] for k in ("abs-7c9c7e4d94d9", "abs-f16c449b93cb", "abs-3ca486809ab7"))


def revised() -> dict[str, dict[int, str]]:
    """2206.07682: v1 translated, v2 and v3 (the same text) with one word changed, as 2206.10658's
    "documents"/"passages"; 2206.04394: v2 adds "https://" to the URL, v1 pairs only a little better
    (within the margin); 2206.08478: v2 rewritten (known_originals)."""
    return {"2206.07682": {1: EMERGENT, 2: EMERGENT.replace("sample efficiency", "data efficiency"),
                           3: EMERGENT.replace("sample efficiency", "data efficiency")},
            "2206.04394": {1: XPLIQUE, 2: XPLIQUE.replace("at github.com", "at https://github.com")},
            "2206.08478": known_originals()["2206.08478"]}


def seed_run(fake_or_url, cache_root, **kw):
    url = fake_or_url if isinstance(fake_or_url, str) else fake_or_url.url
    return find_originals(read_pages(page_paths(ROOT / "data" / "abstracts")),
                          read_id_map(ROOT / "data" / "abstracts" / "arxiv-ids.tsv"),
                          cache=ArxivCache(cache_root), client=client(url, **kw), min_score=0.9)


def test_every_version_is_paired_and_the_clearly_better_one_kept(tmp_path, online, caplog):
    with FakeArxiv(revised()) as fake, caplog.at_level(logging.WARNING):
        report = seed_run(fake, tmp_path)
        # Two requests: the newest of all 18 ids, then every earlier version of the three served, at once.
        assert len(fake.requests) == 2 and report.requests == 2
        assert sorted(fake.ids_asked(1)) == ["2206.04394v1", "2206.07682v1", "2206.07682v2", "2206.08478v1"]
    kept = {o.arxiv_id: o for o in report.confirmed}
    assert {i: (o.version, o.latest_version) for i, o in kept.items()} == {
        "2206.07682": (1, 3), "2206.04394": (2, 2), "2206.08478": (1, 2)}
    emergent = kept["2206.07682"]
    assert emergent.text == EMERGENT and emergent.why.startswith("v1 pairs better than the newest v3 (log-odds ")
    assert emergent.log_odds[1] - emergent.log_odds[3] >= VERSION_MARGIN
    assert emergent.log_odds[2] == emergent.log_odds[3]  # the same text scores the same
    xplique = kept["2206.04394"]  # v1 is a little better, not clearly: the newest stays
    assert 0 < xplique.log_odds[1] - xplique.log_odds[2] < VERSION_MARGIN
    assert xplique.why.startswith("the newest (pair score ") and "margin (log-odds v2 " in xplique.why
    assert kept["2206.08478"].why.startswith("the newest v2 does not pair (v2 0.0")
    record = emergent.to_json()
    assert record["arxiv"] == "2206.07682v1" and set(record["log_odds"]) == {"v1", "v2", "v3"}
    assert record["why"] == emergent.why
    # The 15 ids the stand-in lacks: each block named in a warning, with its id and the reason.
    lines = [r.getMessage() for r in caplog.records if "not available" in r.getMessage()]
    assert len(lines) == 15 and "arXiv original of abs-44e477d456c6 not available: 2208.12505: missing" in lines[0]
    assert "15 not available (each named with its reason)" in summary_line(report)


def test_a_near_miss_and_a_version_served_instead_are_named(tmp_path, units, online, caplog):
    """A mirror answering every versioned id with the newest: the older versions are named as not
    tried, with the reason; the newest, a shortened abstract, is a near miss, given with its score."""
    pages, id_map = corpus(tmp_path, units, papers={"2201.00004": 4})
    shortened = ". ".join(units[4][0].split(". ")[:10]) + "."  # 10 of its 16 sentences
    papers = {"2201.00004": {1: units[4][0], 2: units[4][0], 3: shortened}}
    blocks, rows = read_pages(page_paths(pages)), read_id_map(id_map)
    with FakeArxiv(papers, latest_only=True) as fake, caplog.at_level(logging.WARNING):
        report = find_originals(blocks, rows, cache=ArxivCache(tmp_path / "c"), client=client(fake.url),
                                min_score=0.95)
        assert len(fake.requests) == 2
    why = report.not_confirmed[block_id(units[4][1])]
    assert why.startswith("2201.00004: no version reaches the pairing threshold 0.95: v3 0.9")
    assert "(near miss); not tried: 2201.00004v2: arXiv served v3 instead; 2201.00004v1: arXiv served v3 instead" in why
    assert f"arXiv original of {block_id(units[4][1])} left out: {why}" in caplog.text
    # The versions not served are cached as absent: the next run, arXiv unreachable, asks nothing.
    again = find_originals(blocks, rows, cache=ArxivCache(tmp_path / "c"), client=client("http://127.0.0.1:9/api"),
                           min_score=0.95)
    assert again.requests == 0 and again.reason is None
    assert "2201.00004v1: arXiv served v3 instead (cached as absent on " in again.not_confirmed[block_id(units[4][1])]


def test_absent_versions_are_asked_again_after_a_week(tmp_path, units, online):
    cache = ArxivCache(tmp_path)
    cache.put_absent("2201.00002v1", "arXiv served v3 instead", api="http://mirror/api")
    assert cache.absent("2201.00002v1").startswith("arXiv served v3 instead (cached as absent on ")
    assert cache.absent("2201.00002v2") is None and cache.absent("2201.00002") is None
    path = tmp_path / "2201.00002" / "absent.json"
    record = json.loads(path.read_text())
    stale = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - ABSENT_TTL_S - 60))
    path.write_text(json.dumps({"v1": {**record["v1"], "checked": stale}}))
    assert cache.absent("2201.00002v1") is None
    with FakeArxiv({"2201.00002": {1: units[1][0], 3: units[11][0]}}) as fake:
        from mteval.data.arxiv import fetch_abstracts

        found, missing = fetch_abstracts(["2201.00002v1"], cache=cache, client=client(fake.url))
        assert len(fake.requests) == 1 and found["2201.00002v1"].version == 1 and not missing
    assert "v1" not in json.loads(path.read_text())  # served now: no longer absent


def test_a_pinned_version_is_the_only_one_tried(tmp_path, online):
    ids = tmp_path / "ids.tsv"
    ids.write_text("block_id\tarxiv_id\nabs-7c9c7e4d94d9\t2206.07682v2\n", encoding="utf-8")
    with FakeArxiv(revised()) as fake:
        report = find_originals(read_pages(page_paths(ROOT / "data" / "abstracts")), read_id_map(ids),
                                cache=ArxivCache(tmp_path / "c"), client=client(fake.url), min_score=0.9)
        assert len(fake.requests) == 1 and fake.ids_asked(0) == ["2206.07682v2"]
    (o,) = report.confirmed
    assert (o.version, o.latest_version) == (2, None) and o.why.startswith("v2 as pinned in the id map")
