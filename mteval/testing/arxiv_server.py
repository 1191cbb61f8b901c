"""A loopback stand-in for arXiv's API: serves Atom built from given papers, and misbehaves on request (tests only)."""
from __future__ import annotations

import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from textwrap import wrap

from mteval.data.arxiv_atom import ATOM, split_version
from mteval.data.arxiv_cache import ArxivCache
from mteval.data.arxiv_atom import ArxivEntry

# What the next requests get, in order; then every request is answered normally. The hostile ones
# (issue 23): "huge" announces 1.5 GB, "endless" streams without a length, "drip" sends the body
# (or, "drip-headers", the headers) a byte every drip_s, "redirect-away" sends the client to another
# host (localhost for 127.0.0.1), "redirect-here" to another path of this one.
FAULTS = ("503", "malformed", "slow", "html", "huge", "endless", "drip", "drip-headers", "redirect-away",
          "redirect-here")
STREAM_LIMIT = 64 << 20  # what "huge" and "endless" send at most, should a client read on


@dataclass
class FakeArxiv:
    """Papers as ``{arxiv_id: {version: abstract}}``; ``faults``: one FAULTS item per coming request.

    Every request is recorded (``requests``: path, User-Agent, arrival time). ``slow_s``: how long
    a "slow" answer takes. Use as a context manager; ``url`` is the endpoint to give the client.
    """

    papers: dict[str, dict[int, str]]
    faults: list[str] = field(default_factory=list)
    slow_s: float = 2.0
    drip_s: float = 0.3
    latest_only: bool = False  # answer a versioned id with the latest version, as a mirror might
    requests: list[dict] = field(default_factory=list)

    def __enter__(self) -> FakeArxiv:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                fake.requests.append({"path": self.path, "agent": self.headers.get("User-Agent", ""),
                                      "t": time.monotonic()})
                fault = fake.faults.pop(0) if fake.faults else None
                if fault == "503":
                    self._send(503, b"busy", "text/plain", {"Retry-After": "0"})
                elif fault == "malformed":
                    self._send(200, fake.feed(self.path)[:-40], "application/atom+xml")
                elif fault == "html":
                    self._send(200, b"<html><body>maintenance</body></html>", "text/html")
                elif fault in ("huge", "endless", "drip", "drip-headers"):
                    self._stream(fault)
                elif fault in ("redirect-away", "redirect-here"):
                    port = fake._server.server_address[1]
                    query = urllib.parse.urlsplit(self.path).query
                    where = (f"http://localhost:{port}{self.path}" if fault == "redirect-away" else
                             f"/api/moved?{query}")
                    self._send(302, b"moved", "text/plain", {"Location": where})
                else:
                    if fault == "slow":
                        time.sleep(fake.slow_s)
                    self._send(200, fake.feed(self.path), "application/atom+xml")

            def _send(self, code: int, body: bytes, ctype: str, headers: dict | None = None) -> None:
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(body)))
                    for k, v in (headers or {}).items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (its timeout)

            def _stream(self, fault: str) -> None:
                """A body too large, or too slow: written until the client gives up (or a bound)."""
                body = fake.feed(self.path)
                try:
                    if fault == "drip-headers":
                        self.wfile.write(b"HTTP/1.0 200 OK\r\nX-Slow: ")
                        for _ in range(int(30 / fake.drip_s)):
                            self.wfile.write(b"a")
                            self.wfile.flush()
                            time.sleep(fake.drip_s)
                        return
                    self.send_response(200)
                    self.send_header("Content-Type", "application/atom+xml")
                    length = {"huge": "1500000000", "drip": str(len(body))}.get(fault)
                    if length:
                        self.send_header("Content-Length", length)
                    self.end_headers()
                    if fault == "drip":
                        for byte in body:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            time.sleep(fake.drip_s)
                        return
                    for _ in range(STREAM_LIMIT >> 16):
                        self.wfile.write(bytes(1 << 16))
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up, as it should

            def log_message(self, *args) -> None:  # keep test output clean
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/api/query"

    def ids_asked(self, i: int) -> list[str]:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.requests[i]["path"]).query)
        return query["id_list"][0].split(",")

    def feed(self, path: str) -> bytes:
        """An Atom feed with an entry per known id (latest version when none is given), as arXiv wraps it."""
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
        ET.register_namespace("", ATOM.strip("{}"))
        root = ET.Element(f"{ATOM}feed")
        ET.SubElement(root, f"{ATOM}title").text = "arXiv Query: fake"
        for wanted in query.get("id_list", [""])[0].split(","):
            base, version = split_version(wanted)
            versions = self.papers.get(base)
            if self.latest_only:
                version = None
            if not versions or (version is not None and version not in versions):
                continue  # arXiv leaves out what it does not have
            v = version or max(versions)
            entry = ET.SubElement(root, f"{ATOM}entry")
            ET.SubElement(entry, f"{ATOM}id").text = f"http://arxiv.org/abs/{base}v{v}"
            ET.SubElement(entry, f"{ATOM}updated").text = f"2022-0{v}-01T00:00:00Z"
            ET.SubElement(entry, f"{ATOM}published").text = "2022-01-01T00:00:00Z"
            ET.SubElement(entry, f"{ATOM}title").text = f"Paper\n  {base}"
            # arXiv wraps the abstract field and indents it: the client must undo that.
            lines = wrap(versions[v], 78, break_on_hyphens=False, break_long_words=False)
            ET.SubElement(entry, f"{ATOM}summary").text = "  " + "\n  ".join(lines) + "\n"
        return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def fill_cache(root, papers: dict[str, dict[int, str]]) -> None:  # noqa: ANN001 - a path
    """Pre-fill an arXiv cache as a fetch would leave it: every version of each paper, the highest as latest."""

    cache = ArxivCache(root)
    for arxiv_id, versions in papers.items():
        for v in sorted(versions):
            cache.put(ArxivEntry(arxiv_id=arxiv_id, version=v, title=f"Paper {arxiv_id}", abstract=versions[v],
                                 updated="", published=""), api="prefilled", latest=v == max(versions))
