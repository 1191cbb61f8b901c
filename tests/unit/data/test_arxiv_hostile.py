"""The arXiv client against a hostile stand-in (issue 23): implausible versions, poisoned cache records,
answers too large, too slow or redirected elsewhere. Every failure of ``fetch-originals`` is one line
and exit 2, with no traceback, within seconds; servers bind 127.0.0.1.
"""
from __future__ import annotations

import json
import logging
import subprocess
import sys
import time

import pytest

from mteval.data.arxiv import fetch_abstracts
from mteval.data.arxiv_cache import ArxivCache
from mteval.testing.arxiv_server import FakeArxiv, fill_cache
from tests.helpers import ROOT, cli_env, client, known_originals


def fetch_cli(data, **env: str) -> tuple[subprocess.CompletedProcess, float]:
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "mteval.commands.corpus", "fetch-originals"], capture_output=True,
                          text=True, cwd=ROOT, env=cli_env(MTEVAL_DATA=str(data), **env), timeout=120)
    return proc, time.monotonic() - t0


def one_error(proc: subprocess.CompletedProcess) -> str:
    """The single ``error:`` line of a failed run (no traceback, nothing else wrong)."""
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert proc.returncode == 2 and len(errors) == 1 and "Traceback" not in proc.stderr, proc.stderr
    return errors[0]


# ---------------------------------------------------------------- defect 2: one version number


def test_a_feed_with_an_implausible_version_is_refused(tmp_path):
    papers = known_originals()
    papers["2206.07682"] = {999999999: papers["2206.07682"][1]}
    with FakeArxiv(papers) as fake:
        proc, elapsed = fetch_cli(tmp_path, MTEVAL_ARXIV_API=fake.url)
        assert len(fake.requests) == 1  # refused, not retried: the same answer would be refused again
    assert "refused its answer: its entry 2206.07682v999999999 has a version outside 1 to 100" in one_error(proc)
    assert elapsed < 60 and not (tmp_path / "arxiv" / "2206.07682").exists()


def test_a_poisoned_latest_version_is_discarded_and_reported(tmp_path):
    """A latest.json an older client cached from such a mirror: reported in one line, deleted, never used."""
    fill_cache(tmp_path / "arxiv", known_originals())
    poisoned = tmp_path / "arxiv" / "2206.07682" / "latest.json"
    poisoned.write_text('{"version": 999999999}\n', encoding="utf-8")
    proc, elapsed = fetch_cli(tmp_path, MTEVAL_OFFLINE="1")
    warnings = [line for line in proc.stderr.splitlines() if "discarded" in line]
    assert len(warnings) == 1 and str(poisoned) in warnings[0]
    assert "(version 999999999 is outside 1 to 100, more than any arXiv paper plausibly has)" in warnings[0]
    assert not poisoned.exists() and elapsed < 60
    assert "16 arXiv abstract(s) are not in the cache and MTEVAL_OFFLINE" in one_error(proc)  # 15 + the poisoned
    with FakeArxiv(known_originals()) as fake:  # online again: fetched afresh
        proc, _ = fetch_cli(tmp_path, MTEVAL_ARXIV_API=fake.url)
    assert proc.returncode == 0 and "abs-7c9c7e4d94d9\t2206.07682v1\tconfirmed" in proc.stdout
    assert json.loads(poisoned.read_text())["version"] == 1


RECORD = {"arxiv_id": "2201.00001", "version": 1, "title": "T", "abstract": "An abstract.", "updated": "",
          "published": ""}


@pytest.mark.parametrize(("name", "content", "problem"), [
    ("latest.json", '{"version": 0}', "version 0 is outside 1 to 100"),
    ("latest.json", '{"version": true}', "'version' is not an int"),
    ("latest.json", "[1]", "not a JSON object"),
    ("latest.json", '{"version": 1', "unreadable"),
    ("latest.json", " " * (1 << 21), "2,097,152 bytes, more than the 1,048,576 a record can have"),
    ("v1.json", json.dumps({**RECORD, "version": 2}), "it holds v2"),
    ("v1.json", json.dumps({**RECORD, "arxiv_id": "2201.99999"}), "it holds '2201.99999'"),
    ("v1.json", json.dumps({**RECORD, "abstract": "x" * 20_000}), "its abstract has 20,000 characters"),
    ("v1.json", json.dumps({**RECORD, "title": None}), "'title' is not a str"),
    ("absent.json", '{"v1": {"reason": "r", "checked": "2999-01-01T00:00:00Z"}}', "is no past time"),
    ("absent.json", '{"v999999999": {"reason": "r", "checked": "2022-01-01T00:00:00Z"}}', "not a version"),
    ("absent.json", '{"v101": {"reason": "r", "checked": "2022-01-01T00:00:00Z"}}', "version 101 is outside"),
])
def test_cache_records_are_checked_and_bad_ones_discarded(tmp_path, caplog, name, content, problem):
    fill_cache(tmp_path, {"2201.00001": {1: "An abstract."}})
    path = tmp_path / "2201.00001" / name
    path.write_text(content, encoding="utf-8")
    cache = ArxivCache(tmp_path)
    read = {"latest.json": cache.latest, "v1.json": lambda i: cache.get(i, 1),
            "absent.json": lambda i: cache.absent(f"{i}v1")}[name]
    with caplog.at_level(logging.WARNING):
        assert read("2201.00001") is None
    (message,) = [r.getMessage() for r in caplog.records]
    assert message.startswith(f"arXiv cache: discarded {path} (") and problem in message and "\n" not in message
    assert not path.exists()


# ---------------------------------------------------------------- defect 4: size, deadline, redirects


@pytest.mark.parametrize(("fault", "said"), [
    ("huge", "the response announces 1,500,000,000 bytes, over the 16 MiB limit of an Atom answer; refused"),
    ("endless", "the response sent more, over the 16 MiB limit of an Atom answer; refused"),
])
def test_an_oversized_answer_is_refused_unread(tmp_path, fault, said):
    with FakeArxiv(known_originals(), faults=[fault]) as fake:
        proc, elapsed = fetch_cli(tmp_path, MTEVAL_ARXIV_API=fake.url)
        assert len(fake.requests) == 1  # not retried
    assert said in one_error(proc) and "MemoryError" not in proc.stderr and elapsed < 60


@pytest.mark.parametrize("fault", ["drip", "drip-headers"])
def test_a_dripping_server_meets_the_deadline(tmp_path, monkeypatch, capsys, online, fault):
    """A byte every 0.3 s never trips the 30 s read timeout; the 1 s deadline per request ends it."""
    from mteval.commands.corpus import main

    for name, value in (("arxiv_http.DEADLINE_S", 1.0), ("arxiv.RETRIES", 1), ("arxiv.BACKOFF_S", 0.01),
                        ("arxiv.MIN_INTERVAL_S", 0.0)):
        monkeypatch.setattr(f"mteval.data.{name}", value)
    with FakeArxiv(known_originals(), faults=[fault] * 2, drip_s=0.3) as fake:
        monkeypatch.setenv("MTEVAL_ARXIV_API", fake.url)
        monkeypatch.setenv("MTEVAL_DATA", str(tmp_path))
        t0 = time.monotonic()
        assert main(["fetch-originals"]) == 2
        elapsed = time.monotonic() - t0
        assert len(fake.requests) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and f"arXiv API {fake.url}: no complete response within 1 s (2 attempts)" in errors[0]
    assert elapsed < 10


def test_a_redirect_to_another_host_is_refused(tmp_path):
    with FakeArxiv(known_originals(), faults=["redirect-away"]) as fake:
        proc, _ = fetch_cli(tmp_path, MTEVAL_ARXIV_API=fake.url)
        assert len(fake.requests) == 1  # localhost (another host name) was never asked
    port = fake.url.split(":")[2].split("/")[0]
    assert (f"arXiv API {fake.url} redirected (HTTP 302) to http://localhost:{port}, another host or an "
            "unencrypted one; refused") in one_error(proc)
    assert not (tmp_path / "arxiv").exists() or not list((tmp_path / "arxiv").rglob("v*.json"))


def test_a_same_host_redirect_records_the_endpoint_that_answered(tmp_path, online):
    with FakeArxiv({"2201.00001": {1: "An abstract."}}, faults=["redirect-here"]) as fake:
        found, missing = fetch_abstracts(["2201.00001"], cache=ArxivCache(tmp_path), client=client(fake.url))
        assert fake.requests[1]["path"].startswith("/api/moved?id_list=2201.00001")
    assert found["2201.00001"].version == 1 and not missing
    record = json.loads((tmp_path / "2201.00001" / "v1.json").read_text(encoding="utf-8"))
    assert record["api"] == fake.url.replace("/api/query", "/api/moved")  # not the host first asked
