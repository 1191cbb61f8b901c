"""Where the tests' WMT22 text comes from: a mirror, else sacrebleu's cache, else a download the network allows,
else nothing, known within seconds (a refused port, a server that never answers)."""
from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from mteval.data.sacrebleu_cache import entry, read_fields, read_lines
from mteval.testing import wmt22
from mteval.testing.sacrebleu_mirror import lay_out

XML = """<?xml version='1.0' encoding='utf-8'?>
<dataset id="wmttest2022"><collection id="general"><doc id="d1" origlang="en" domain="news">
<src lang="en"><p><seg id="1">Hello.</seg><seg id="2">Good morning.</seg></p></src>
<ref lang="zh" translator="A"><p><seg id="1">你好。</seg><seg id="2">早上好。</seg></p></ref>
<hyp lang="zh" system="Sys"><p><seg id="1">您好。</seg><seg id="2">早安。</seg></p></hyp>
</doc></collection></dataset>
"""


def fake_mirror(root: Path) -> Path:
    """A mirror in the layout of ../shared/data/wmt22: en-zh as XML, zh-en as text files."""
    (root / "en-zh").mkdir(parents=True)
    (root / "en-zh" / "wmttest2022.en-zh.all.xml").write_text(XML, encoding="utf-8")
    zh_en = root / "zh-en"
    (zh_en / "system-outputs").mkdir(parents=True)
    (zh_en / "generaltest2022.zh-en.src.zh").write_text("你好。\n", encoding="utf-8")
    (zh_en / "generaltest2022.zh-en.ref.A.en").write_text("Hello.\n", encoding="utf-8")
    (zh_en / "system-outputs" / "generaltest2022.zh-en.hyp.Sys.en").write_text("Hi.\n", encoding="utf-8")
    return root


def fields(cache: Path, pair: str) -> dict[str, list[str]]:
    return {k: read_lines(v) for k, v in read_fields(entry("wmt22", pair, str(cache)), pair).items()}


@pytest.fixture
def unreachable(monkeypatch):
    """No download may be tried: the release's server is taken as unreachable."""
    monkeypatch.setattr(wmt22, "reachable", lambda url, timeout_s: False)


def test_a_mirror_comes_first(tmp_path, unreachable):
    mirror = fake_mirror(tmp_path / "mirror")
    source = wmt22.provide(tmp_path / "cache", mirror=mirror, user_cache=tmp_path / "none")
    assert source == f"the mirror {mirror}"
    assert fields(tmp_path / "cache", "en-zh")["src"] == ["Hello.", "Good morning."]
    assert fields(tmp_path / "cache", "zh-en")["Sys"] == ["Hi."]


def test_else_sacrebleus_own_cache_is_copied_not_used_in_place(tmp_path, unreachable):
    user = lay_out(fake_mirror(tmp_path / "mirror"), tmp_path / "user")  # what `sacrebleu -t wmt22` left there
    source = wmt22.provide(tmp_path / "cache", mirror=tmp_path / "no-mirror", user_cache=user)
    assert source == f"sacrebleu's cache {user}"
    assert fields(tmp_path / "cache", "en-zh")["ref:A"] == ["你好。", "早上好。"]
    assert [p.name for p in (user / "wmt22").iterdir()] == ["raw"]  # the tests wrote their text files elsewhere


def test_else_nothing_and_the_reason_names_both_fixes(tmp_path, unreachable):
    half = tmp_path / "user"
    (half / "wmt22" / "raw").mkdir(parents=True)  # a failed download leaves the folder, not the release
    assert wmt22.provide(tmp_path / "cache", mirror=tmp_path / "no-mirror", user_cache=half) is None
    assert "MTEVAL_SHARED" in wmt22.NEEDS and "sacrebleu -t wmt22 -l en-zh" in wmt22.NEEDS
    assert "\n" not in wmt22.NEEDS


def test_an_unreachable_server_is_known_at_once(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again when the block ends: connections are refused
    t0 = time.monotonic()
    assert not wmt22.reachable(f"http://127.0.0.1:{port}/wmt22.tar.gz", timeout_s=5)
    assert time.monotonic() - t0 < 2


def test_a_server_that_never_answers_is_given_up_on_time():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()  # accepts the connection, never sends a byte
        t0 = time.monotonic()
        assert not wmt22.reachable(f"http://127.0.0.1:{server.getsockname()[1]}/", timeout_s=1)
        assert time.monotonic() - t0 < 3
