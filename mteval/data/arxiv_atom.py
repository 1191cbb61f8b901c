"""arXiv API responses: the Atom feed parsed into (id, version, abstract) entries, normalised as on the seed pages."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

ATOM = "{http://www.w3.org/2005/Atom}"
# Entry ids are abstract-page URLs ending in the version served: http://arxiv.org/abs/2112.04417v3
# (new-style ids) or http://arxiv.org/abs/hep-th/9901001v1 (old-style). arXiv's API user manual,
# https://info.arxiv.org/help/api/user-manual.html (3.3.2.1 and 5.1.1 "A Note on Article Versions").
_ENTRY_ID = re.compile(r"/abs/(?P<id>[A-Za-z.-]+/\d{7}|\d{4}\.\d{4,5})v(?P<version>\d+)$")
# An id as the id map and the API take it, with an optional version.
ARXIV_ID = re.compile(r"^(?:[A-Za-z.-]+/\d{7}|\d{4}\.\d{4,5})(?:v[1-9]\d{0,5})?$")
# The highest version number believed. arXiv numbers versions one per replacement, from 1
# (https://info.arxiv.org/help/versions.html); papers rarely pass v10, and the originals fetch and
# pair every version of a paper, so 100 bounds that work (two batched requests, 100 pairings per id).
# A feed or cache naming more is refused, not trusted: a mirror serving v999999999 made the
# originals build a billion-entry list of versions, and the cache kept it (issue 23).
MAX_VERSION = 100


class RefusedFeed(ValueError):
    """A well-formed feed that cannot be arXiv's (an implausible version): refused, not retried."""


@dataclass(frozen=True)
class ArxivEntry:
    """One abstract as served for one version of a paper (``abstract`` exactly as the feed has it)."""

    arxiv_id: str
    version: int
    title: str
    abstract: str
    updated: str
    published: str

    @property
    def versioned_id(self) -> str:
        return f"{self.arxiv_id}v{self.version}"


def normalise(text: str) -> str:
    """Whitespace collapsed to single spaces, LaTeX kept as typed.

    The seed pages show an abstract the way arXiv's abstract field holds it: one line, LaTeX
    verbatim (``$\\{X_1,X_2\\}$``, ``\\textbf{I}nverted``, ``9.88\\%``). The feed wraps the same
    field at about 80 columns and indents new paragraphs, so only the whitespace needs undoing.
    """
    return " ".join(text.split())


def parse_feed(data: bytes) -> tuple[list[ArxivEntry], list[str]]:
    """The entries of an Atom response, and the error messages arXiv put in it as entries.

    arXiv reports a malformed id as an entry titled ``Error`` whose id is an ``.../api/errors#...``
    URL (user manual 3.4); those are returned as messages, not entries.

    Raises:
        ValueError: the body is not well-formed XML or not an Atom feed (a proxy's HTML page, a cut-off body).
        RefusedFeed: an entry's version is outside 1 to MAX_VERSION.
    """
    try:
        root = ET.fromstring(data)  # expat: no external entities are fetched
    except ET.ParseError as err:
        raise ValueError(f"not well-formed XML ({err})") from None
    if root.tag != f"{ATOM}feed":
        raise ValueError(f"not an Atom feed (root element {root.tag!r})")
    entries: list[ArxivEntry] = []
    errors: list[str] = []
    for node in root.iter(f"{ATOM}entry"):
        url = _text(node, "id")
        if "/api/errors" in url:
            errors.append(normalise(_text(node, "summary")) or url)
            continue
        m = _ENTRY_ID.search(url)
        if m is None:
            errors.append(f"an entry with an unrecognised id {url!r}")
            continue
        version = m["version"]
        if len(version) > 6 or not 1 <= int(version) <= MAX_VERSION:  # 6 digits: int() of any length is slow
            shown = version if len(version) <= 12 else version[:12] + "..."
            raise RefusedFeed(f"its entry {m['id']}v{shown} has a version outside 1 to {MAX_VERSION}, "
                              "more than any arXiv paper plausibly has")
        entries.append(ArxivEntry(arxiv_id=m["id"], version=int(version), title=normalise(_text(node, "title")),
                                  abstract=_text(node, "summary"), updated=_text(node, "updated"),
                                  published=_text(node, "published")))
    return entries, errors


def _text(node: ET.Element, tag: str) -> str:
    child = node.find(f"{ATOM}{tag}")
    return "" if child is None or child.text is None else child.text


def split_version(arxiv_id: str) -> tuple[str, int | None]:
    """``2112.04417v2`` -> (``2112.04417``, 2); an unversioned id -> (id, None)."""
    base, sep, version = arxiv_id.rpartition("v")
    if sep and version.isdigit() and ARXIV_ID.match(base):
        return base, int(version)
    return arxiv_id, None
