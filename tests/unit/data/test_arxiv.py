"""English originals from arXiv: Atom parsing, the polite client, the per-version cache, confirmation by pairing.

No test touches the network: a loopback server (mteval.testing.arxiv_server) plays arXiv, serving
synthetic papers whose English and Chinese are WMT22 documents (the ``units`` fixture, tests/unit/data/conftest.py).
"""
from __future__ import annotations

import json
import logging
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from mteval.data.abstracts import load_abstracts
from mteval.data.arxiv import fetch_abstracts
from mteval.data.arxiv_cache import ArxivCache
from mteval.data.arxiv_atom import normalise, parse_feed, split_version
from mteval.data.originals import find_originals, read_id_map
from mteval.data.seeds import block_id, page_paths, read_pages
from mteval.errors import DataUnavailableError, InputError
from mteval.testing.arxiv_server import FakeArxiv
from tests.helpers import HEADER, ROOT, cli_env, client, corpus, known_originals, wmt22_xml

MAPPED = {"2201.00001": 0, "2201.00002": 1, "2201.00003": 2}


def served(units) -> dict[str, dict[int, str]]:
    """One paper in a single version; one revised twice into unrelated text (only v1 is what was
    translated); one whose versions never match its Chinese block."""
    return {"2201.00001": {1: units[0][0]},
            "2201.00002": {1: units[1][0], 2: units[10][0], 3: units[11][0]},
            "2201.00003": {1: units[12][0], 2: units[13][0]}}


def run(tmp, units, fake, **kw):
    pages, id_map = corpus(tmp, units, papers=MAPPED)
    blocks = read_pages(page_paths(pages))
    return find_originals(blocks, read_id_map(id_map), cache=ArxivCache(tmp / "cache"),
                          client=client(fake.url, **kw), min_score=0.9)


# ---------------------------------------------------------------- fetching, versions, cache


def test_latest_first_then_earlier_versions_and_cache_reuse(tmp_path, units, online):
    with FakeArxiv(served(units)) as fake:
        report = run(tmp_path, units, fake)
        got = {o.arxiv_id: (o.version, o.latest_version) for o in report.confirmed}
        assert got == {"2201.00001": (1, 1), "2201.00002": (1, 3)}  # v1 of a paper now at v3
        assert list(report.not_confirmed) == [block_id(units[2][1])]
        assert report.not_confirmed[block_id(units[2][1])].startswith(
            "2201.00003: no version reaches the pairing threshold 0.9: v2 0.0")  # each version's score, named
        assert ", v1 0.0" in report.not_confirmed[block_id(units[2][1])]
        assert report.reason is None and not report.unavailable
        # Two requests: every latest version in one, every earlier version in another.
        assert len(fake.requests) == 2
        assert sorted(fake.ids_asked(0)) == ["2201.00001", "2201.00002", "2201.00003"]
        assert sorted(fake.ids_asked(1)) == ["2201.00002v1", "2201.00002v2", "2201.00003v1"]
        assert "max_results=3" in fake.requests[0]["path"]
        assert all(r["agent"].startswith("mteval/") for r in fake.requests)
        # The text is the abstract as arXiv holds it, the feed's line wrapping undone.
        original = next(o for o in report.confirmed if o.arxiv_id == "2201.00002")
        assert original.text == normalise(units[1][0]) and "\n" not in original.text
        cached = json.loads((tmp_path / "cache" / "2201.00002" / "v1.json").read_text(encoding="utf-8"))
        assert cached["version"] == 1 and cached["api"] == fake.url
        assert json.loads((tmp_path / "cache" / "2201.00002" / "latest.json").read_text())["version"] == 3
        # A second run reads the cache and asks nothing.
        again = find_originals(read_pages(page_paths(tmp_path / "pages")), read_id_map(tmp_path / "ids.tsv"),
                               cache=ArxivCache(tmp_path / "cache"), client=client(fake.url), min_score=0.9)
        assert len(fake.requests) == 2
        assert [o.to_json() for o in again.confirmed] == [o.to_json() for o in report.confirmed]


def test_an_id_missing_from_the_response_is_reported(tmp_path, units, online):
    papers = served(units)
    del papers["2201.00003"]
    with FakeArxiv(papers) as fake:
        report = run(tmp_path, units, fake)
    assert {o.arxiv_id for o in report.confirmed} == {"2201.00001", "2201.00002"}
    assert report.unavailable == {block_id(units[2][1]): "2201.00003: missing from arXiv's response"}
    assert not (tmp_path / "cache" / "2201.00003" / "latest.json").exists()
    assert "missing from arXiv's response" in (tmp_path / "cache" / "2201.00003" / "absent.json").read_text()


def test_http_503_is_retried(tmp_path, units, online, caplog):
    with FakeArxiv(served(units), faults=["503", "503"]) as fake, caplog.at_level(logging.WARNING):
        report = run(tmp_path, units, fake)
    assert {o.arxiv_id for o in report.confirmed} == {"2201.00001", "2201.00002"}
    assert len(fake.requests) == 4  # two refused, then the two real ones
    assert sum("HTTP 503; retrying" in r.message for r in caplog.records) == 2


def test_503_every_time_gives_up_in_one_line(tmp_path, units, online):
    with FakeArxiv(served(units), faults=["503"] * 10) as fake:
        report = run(tmp_path, units, fake, retries=2)
    assert len(fake.requests) == 3 and not report.confirmed
    assert report.reason.startswith(f"arXiv API {fake.url}: HTTP 503 (3 attempts)") and "\n" not in report.reason
    from mteval.data.originals import summary_line

    line = summary_line(report)
    assert "so no Chinese block of the pages serves as a reference" in line and "\n" not in line
    assert "mteval-corpus fetch-originals" in line
    assert "reference-free only" not in line  # the corpus summary says how many sources have a reference (user ones too)


def test_no_network_is_not_retried(monkeypatch, online):
    import socket
    import urllib.error

    calls = []

    def no_dns(*args, **kwargs):
        calls.append(1)
        raise urllib.error.URLError(socket.gaierror(-2, "Name or service not known"))

    monkeypatch.setattr("mteval.data.arxiv_http.get", no_dns)
    with pytest.raises(DataUnavailableError, match=r"cannot reach it \(\[Errno -2\] Name or service not known\)$"):
        client("https://export.arxiv.org/api/query").query(["2201.00001"])
    assert len(calls) == 1  # waiting does not bring DNS back


@pytest.mark.parametrize("fault", ["malformed", "html"])
def test_malformed_response_is_retried_then_refused(tmp_path, units, online, fault):
    with FakeArxiv(served(units), faults=[fault]) as fake:
        report = run(tmp_path, units, fake)
    assert {o.arxiv_id for o in report.confirmed} == {"2201.00001", "2201.00002"} and len(fake.requests) == 3
    with FakeArxiv(served(units), faults=[fault] * 5) as fake:
        with pytest.raises(DataUnavailableError, match=r"malformed response: not (well-formed XML|an Atom feed)"):
            client(fake.url, retries=1).query(["2201.00001"])


def test_slow_response_times_out(tmp_path, units, online):
    with FakeArxiv(served(units), faults=["slow"] * 5, slow_s=1.5) as fake:
        t0 = time.monotonic()
        report = run(tmp_path, units, fake, timeout_s=0.3, retries=1)
        elapsed = time.monotonic() - t0
    assert report.reason.startswith(f"arXiv API {fake.url}: no response within 0.3 s (2 attempts)")
    assert elapsed < 3.0 and not report.confirmed
    assert set(report.unavailable) == {block_id(units[i][1]) for i in MAPPED.values()}


def test_slow_once_then_answered(tmp_path, units, online):
    with FakeArxiv(served(units), faults=["slow"], slow_s=3.0) as fake:  # the answers after it are immediate
        report = run(tmp_path, units, fake, timeout_s=1.0)
    assert len(report.confirmed) == 2 and report.reason is None


def test_requests_keep_the_rate_limit(units, tmp_path, online):
    with FakeArxiv(served(units)) as fake:
        found, missing = fetch_abstracts(["2201.00001", "2201.00002", "2201.00003"], cache=ArxivCache(tmp_path),
                                         client=client(fake.url, min_interval_s=0.4, batch_size=1))
    assert len(found) == 3 and not missing
    times = [r["t"] for r in fake.requests]
    assert len(times) == 3 and min(b - a for a, b in zip(times, times[1:])) >= 0.35


def test_offline_asks_nothing_and_says_why(tmp_path, units, monkeypatch):
    monkeypatch.setenv("MTEVAL_OFFLINE", "1")
    with FakeArxiv(served(units)) as fake:
        report = run(tmp_path, units, fake)
    assert fake.requests == [] and not report.confirmed
    assert report.reason.startswith("3 arXiv abstract(s) are not in the cache and MTEVAL_OFFLINE")
    assert str(tmp_path / "cache") in report.reason and "\n" not in report.reason


# ---------------------------------------------------------------- Atom parsing and the id map


def test_atom_parsing_versions_errors_and_text():
    feed = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom">
      <entry><id>http://arxiv.org/abs/2112.04417v3</id><title>A\n  title</title>
        <summary>  We prove $\\{X_1,X_2\\}$ is \\textbf{I}nverted by 9.88\\% &amp;\n  more.\n</summary></entry>
      <entry><id>http://arxiv.org/abs/hep-th/9901001v1</id><summary>Old.</summary></entry>
      <entry><id>http://arxiv.org/api/errors#incorrect_id_format_for_1234</id><title>Error</title>
        <summary>incorrect id format for 1234</summary></entry></feed>"""
    entries, errors = parse_feed(feed)
    assert [(e.arxiv_id, e.version) for e in entries] == [("2112.04417", 3), ("hep-th/9901001", 1)]
    assert entries[0].title == "A title"
    # LaTeX stays as typed, as on the seed pages; only the wrapping goes.
    assert normalise(entries[0].abstract) == r"We prove $\{X_1,X_2\}$ is \textbf{I}nverted by 9.88\% & more."
    assert errors == ["incorrect id format for 1234"]
    with pytest.raises(ValueError, match="not well-formed"):
        parse_feed(feed[:-30])
    assert split_version("2112.04417v2") == ("2112.04417", 2) and split_version("solv-int/9901001") == (
        "solv-int/9901001", None)


def test_shipped_id_map_names_every_chinese_block_of_the_seed_pages():
    rows = read_id_map(ROOT / "data" / "abstracts" / "arxiv-ids.tsv")
    zh = {b.id for b in read_pages(page_paths(ROOT / "data" / "abstracts")) if b.lang == "zh"}
    assert len(rows) == 18 and {r.block_id for r in rows} == zh
    assert all(split_version(r.arxiv_id)[1] is None for r in rows)  # the latest first, then earlier ones


def test_bad_id_map_row_names_file_and_line(tmp_path):
    bad = tmp_path / "ids.tsv"
    bad.write_text(HEADER + "abs-123\t2201.00001\n\nabs-456\tnot-an-id\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"ids.tsv:4: expected a block id"):
        read_id_map(bad)
    bad.write_text(HEADER + "abs-123\t2201.00001\nabs-123\t2201.00002\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"ids.tsv:3: block abs-123 is mapped twice"):
        read_id_map(bad)
    bad.write_text("id\tpaper\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"ids.tsv:1: the header must start with"):
        read_id_map(bad)


# ---------------------------------------------------------------- the abstracts dataset


def test_dataset_scores_confirmed_originals_against_the_chinese(tmp_path, units, online):
    pages, id_map = corpus(tmp_path, units, papers=MAPPED)
    with FakeArxiv(served(units)) as fake:
        kw = dict(name="a", pages=str(pages), arxiv_ids=str(id_map), arxiv_cache=str(tmp_path / "cache"))
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("MTEVAL_ARXIV_API", fake.url)
            mp.setattr("mteval.data.arxiv.MIN_INTERVAL_S", 0.0)
            en = load_abstracts(**kw)
    s = en.summary
    # 3 English-only blocks reference-free, 2 confirmed originals with the Chinese block as reference.
    assert (len(en), s["sources_with_reference"], s["sources_without_reference"]) == (5, 2, 3)
    refd = [seg for seg in en.segments if seg.refs]
    assert {seg.doc_id for seg in refd} == {"arXiv:2201.00001v1", "arXiv:2201.00002v1"}
    for seg in refd:
        i = MAPPED[seg.doc_id[6:-2]]
        assert seg.src == normalise(units[i][0]) and seg.refs == [units[i][1]]
        assert seg.meta["reference_is"] == "Google Translate output"
    assert s["arxiv_originals"]["confirmed"][1]["arxiv"] == "2201.00002v1"
    assert s["arxiv_originals"]["confirmed"][1]["latest_version"] == 3
    assert "agreement with Google Translate, not with a human" in s["note"]
    assert "2 of 3 mapped Chinese blocks confirmed" in s["arxiv_originals"]["line"]
    # zh-en: the same pairs the other way, from the cache, labelled as translating machine output.
    zh = load_abstracts(**{**kw, "direction": "zh-en", "fetch_originals": False})
    assert len(zh) == 5 and sum(1 for seg in zh.segments if seg.refs) == 2  # 3 mapped + 2 unmapped blocks
    assert "translating machine output" in zh.summary["note"]
    seg = next(seg for seg in zh.segments if seg.refs)
    assert seg.meta["source_is"] == "Google Translate output" and seg.doc_id.startswith("arXiv:")


# ---------------------------------------------------------------- the real seed pages, three known originals


def test_seed_pages_with_a_partly_filled_cache_offline(tmp_path):
    from mteval.testing.arxiv_server import fill_cache

    fill_cache(tmp_path, known_originals())
    kw = dict(name="abstracts", pages=str(ROOT / "data" / "abstracts"),
              arxiv_ids=str(ROOT / "data" / "abstracts" / "arxiv-ids.tsv"), arxiv_cache=str(tmp_path))
    en = load_abstracts(**kw)  # MTEVAL_OFFLINE=1 (conftest): the cache only
    s = en.summary
    assert (len(en), s["sources_with_reference"], s["pairs"]) == (28, 3, 0)
    assert {seg.doc_id for seg in en.segments if seg.refs} == {"arXiv:2206.07682v1", "arXiv:2206.04394v1",
                                                               "arXiv:2206.08478v1"}  # v1: v2 does not confirm
    line = s["arxiv_originals"]["line"]
    assert line.startswith("arXiv originals: 3 of 18 mapped Chinese blocks confirmed")
    assert "1 an earlier version" in line
    assert "15 not available" in line and "MTEVAL_OFFLINE" in line
    zh = load_abstracts(**kw, direction="zh-en")
    assert (len(zh), zh.summary["sources_with_reference"]) == (18, 3)


def test_fetch_originals_cli_and_prefetch(tmp_path):
    import subprocess
    import sys

    with FakeArxiv(known_originals()) as fake:
        env = cli_env(MTEVAL_ARXIV_API=fake.url, MTEVAL_DATA=str(tmp_path / "data"))
        proc = subprocess.run([sys.executable, "-m", "mteval.commands.corpus", "fetch-originals"], capture_output=True,
                              text=True, cwd=ROOT, env=env, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert "abs-3ca486809ab7\t2206.08478v1\tconfirmed" in proc.stdout
        assert "arXiv originals: 3 of 18 mapped Chinese blocks confirmed" in proc.stdout
        assert "15 not available" in proc.stdout and proc.stdout.count("missing from arXiv's response") == 15
        assert "\tnot available: 2208.12505: missing from arXiv's response" in proc.stdout  # block, id, reason
        assert len(fake.requests) == 2  # every latest version at once, then 2206.08478v1
        assert (tmp_path / "data" / "arxiv" / "2206.08478" / "v1.json").is_file()
        # mteval-prefetch (make models) fetches them too: the 15 missing are cached as absent, so nothing is asked.
        prefetch = str(Path(sys.executable).parent / "mteval-prefetch")
        proc = subprocess.run([prefetch, "system=copy", "metrics=[bleu]"], capture_output=True, text=True, cwd=ROOT,
                              env=env, timeout=300)
        assert proc.returncode == 0, proc.stderr
        assert "arXiv originals of" in proc.stdout and "28 segments, 3 with a reference" in proc.stdout
        assert len(fake.requests) == 2
    # arXiv unreachable now (the server is gone): a complete cache needs no request, and says so.
    proc = subprocess.run([sys.executable, "-m", "mteval.commands.corpus", "fetch-originals"], capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "(all from cache, arXiv not asked)" in proc.stdout and "retrying" not in proc.stderr
    assert proc.stdout.count("cached as absent on") == 15
    offline = subprocess.run([sys.executable, "-m", "mteval.commands.corpus", "fetch-originals"], capture_output=True,
                             text=True, cwd=ROOT,
                             env={**env, "MTEVAL_OFFLINE": "1", "MTEVAL_DATA": str(tmp_path / "e")},
                             timeout=120)
    errors = [line for line in offline.stderr.splitlines() if line.startswith("error:")]
    assert offline.returncode == 2 and len(errors) == 1 and "MTEVAL_OFFLINE" in errors[0]


def test_a_chinese_block_translating_part_of_its_original(wmt22, tmp_path):
    """Cut to its first 11 of 15 sentences, a translation still confirms but is flagged as far shorter
    than its original (its reference-based scores understate the MT); cut to half, it does not confirm."""
    from mteval.data.originals import summary_line
    from mteval.testing.arxiv_server import fill_cache

    doc = [d for d in ET.parse(wmt22_xml("en-zh")).getroot().iter("doc")
           if d.get("domain") != "conversation"]
    segs = {}
    for d in doc:
        en = [(s.text or "").strip() for s in d.find("src").iter("seg")]
        if 500 <= len(" ".join(en)) <= 2000:
            segs[len(segs)] = (en, [(s.text or "").strip() for s in next(
                r for r in d.findall("ref") if r.get("translator") == "A").iter("seg")])
    en, zh = segs[4]
    assert len(zh) == 15
    results = {}
    for keep in (11, 7):
        tmp = tmp_path / str(keep)
        tmp.mkdir()
        u = [(" ".join(e), "".join(z)) for e, z in segs.values()]
        u[4] = (" ".join(en), "".join(zh[:keep]))
        pages, id_map = corpus(tmp, u, papers={"2201.00001": 0, "2201.00004": 4})
        fill_cache(tmp / "c", {"2201.00001": {1: u[0][0]}, "2201.00004": {1: u[4][0]}})
        results[keep] = find_originals(read_pages(page_paths(pages)), read_id_map(id_map), cache=ArxivCache(tmp / "c"),
                                       client=None, min_score=0.9)
    partial = next(o for o in results[11].confirmed if o.arxiv_id == "2201.00004")
    assert partial.reference_short and "the Chinese of 2201.00004v1 is far shorter" in summary_line(results[11])
    assert not any(o.reference_short for o in results[11].confirmed if o.arxiv_id != "2201.00004")
    assert [o.arxiv_id for o in results[7].confirmed] == ["2201.00001"] and len(results[7].not_confirmed) == 1


def test_blocks_the_pages_already_pair_need_no_original(tmp_path, units, online):
    pages, id_map = corpus(tmp_path, units, papers=MAPPED)
    (pages / "002.txt").write_text(units[0][0] + "\n", encoding="utf-8")  # the English of 2201.00001 is on a page
    with FakeArxiv(served(units)) as fake, pytest.MonkeyPatch.context() as mp:
        mp.setenv("MTEVAL_ARXIV_API", fake.url)
        mp.setattr("mteval.data.arxiv.MIN_INTERVAL_S", 0.0)
        en = load_abstracts(name="a", pages=str(pages), arxiv_ids=str(id_map), arxiv_cache=str(tmp_path / "c"))
        assert "2201.00001" not in fake.ids_asked(0)
    assert en.summary["pairs"] == 1 and en.summary["arxiv_originals"]["mapped"] == 2
    assert en.summary["sources_with_reference"] == 2  # the page pair and 2201.00002v1


def test_a_version_arxiv_does_not_serve_is_named(tmp_path, units, online):
    papers = {"2201.00002": {1: units[1][0], 3: units[11][0]}}
    with FakeArxiv(papers, latest_only=True) as fake:
        found, missing = fetch_abstracts(["2201.00002v1"], cache=ArxivCache(tmp_path), client=client(fake.url))
    assert not found and missing == {"2201.00002v1": "arXiv served v3 instead"}
    assert not (tmp_path / "2201.00002" / "v3.json").exists()  # nothing cached under the wrong version
    assert "arXiv served v3 instead" in ArxivCache(tmp_path).absent("2201.00002v1")
