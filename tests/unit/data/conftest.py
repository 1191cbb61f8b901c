"""Fixtures of the arXiv tests: abstract-sized WMT22 documents as synthetic papers, downloads allowed to loopback."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from tests.helpers import wmt22_xml


@pytest.fixture(scope="module")
def units(wmt22) -> list[tuple[str, str]]:
    """(English, Chinese reference A) of abstract-sized WMT22 en-zh documents (no chat transcripts)."""
    out = []
    for doc in ET.parse(wmt22_xml("en-zh")).getroot().iter("doc"):
        if doc.get("domain") == "conversation":
            continue
        ref = next(r for r in doc.findall("ref") if r.get("translator") == "A")
        en = " ".join((s.text or "").strip() for s in doc.find("src").iter("seg"))
        zh = "".join((s.text or "").strip() for s in ref.iter("seg"))
        if 500 <= len(en) <= 2000:
            out.append((en, zh))
    return out


@pytest.fixture
def online(monkeypatch):
    """The tests' conftest forbids downloads; these tests talk to a loopback server only."""
    for var in ("MTEVAL_OFFLINE", "HF_DATASETS_OFFLINE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
