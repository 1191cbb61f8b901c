"""One HTTP GET for the arXiv client, bounded: an overall deadline, a body-size cap, no redirect to another host."""
from __future__ import annotations

import http.client
import socket
import threading
import urllib.parse
import urllib.request

from mteval.errors import DataUnavailableError

# An Atom answer for 50 ids is about 0.1-2 MB (abstracts cap at 1,920 characters; BIG-bench lists
# 450 authors, ~25 KB an entry): 16 MiB is ample, and a 1.5 GB body is refused, not read into memory (issue 23).
MAX_BODY_BYTES = 16 << 20
# The timeout is per socket read, so a server dripping a byte every few seconds never trips it:
# each request, headers and body, must complete within this many seconds (issue 23).
DEADLINE_S = 60.0
_CHUNK = 1 << 16


class ResponseRefused(DataUnavailableError):
    """An answer that retrying will not mend: too large, or a redirect to another host."""


class DeadlineExceeded(TimeoutError):
    """The whole request took longer than its deadline (a slow or dripping server)."""


def get(url: str, *, headers: dict[str, str], timeout_s: float, deadline_s: float = DEADLINE_S,
        max_bytes: int = MAX_BODY_BYTES) -> tuple[bytes, str]:
    """The body at ``url`` and the URL that answered (a same-host redirect's target).

    Raises:
        ResponseRefused: a body over ``max_bytes``, or a redirect to another host or from https to http.
        DeadlineExceeded: no complete answer within ``deadline_s``.
        urllib.error.URLError, http.client.HTTPException, OSError: as urllib raises them (HTTPError included).
    """
    watch = _Watch(deadline_s)
    opener = urllib.request.build_opener(_SameHostRedirects(), _Http(watch), _Https(watch))
    with watch:
        try:
            with opener.open(urllib.request.Request(url, headers=headers), timeout=timeout_s) as resp:
                announced = resp.headers.get("Content-Length", "")
                if announced.isdigit() and int(announced) > max_bytes:
                    raise ResponseRefused(_too_large(url, max_bytes, f"announces {int(announced):,} bytes"))
                body = bytearray()
                while chunk := resp.read1(_CHUNK):
                    body += chunk
                    if len(body) > max_bytes:
                        raise ResponseRefused(_too_large(url, max_bytes, "sent more"))
                answered = resp.geturl()
        except (OSError, http.client.HTTPException, ValueError):
            if watch.expired:  # the watch shut the socket: whatever the read raised, the cause is the deadline
                raise DeadlineExceeded(f"no complete response within {deadline_s:g} s") from None
            raise
    if watch.expired:  # a body without Content-Length ends at the shutdown as if complete
        raise DeadlineExceeded(f"no complete response within {deadline_s:g} s")
    return bytes(body), answered


def endpoint(url: str) -> str:
    """``url`` without its query: what the cache records as the API that answered."""
    return urllib.parse.urlunsplit(urllib.parse.urlsplit(url)._replace(query="", fragment=""))


def _too_large(url: str, max_bytes: int, what: str) -> str:
    return (f"arXiv API {endpoint(url)}: the response {what}, over the {max_bytes >> 20} MiB limit of an Atom "
            "answer; refused")


class _Watch:
    """Shuts the request's socket down at the deadline, which wakes any read blocked on it."""

    def __init__(self, seconds: float):
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Watch:
        self._timer.start()
        return self

    def __exit__(self, *exc) -> None:
        self._timer.cancel()

    def connection(self, base: type[http.client.HTTPConnection]) -> type[http.client.HTTPConnection]:
        watch = self

        class Watched(base):
            def connect(self) -> None:
                super().connect()
                watch.add(self.sock)

        return Watched

    def add(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            if self.expired:
                _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shut(sock)


def _shut(sock: socket.socket) -> None:
    try:  # the plain socket's shutdown, also under TLS (SSLSocket's own would drop its TLS state mid-read)
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass  # already closed


class _Watched:
    """A urllib handler whose connections the watch can shut down."""

    def __init__(self, watch: _Watch):
        super().__init__()
        self._watch = watch

    def do_open(self, http_class, req, **kwargs):  # noqa: ANN001, ANN201 - urllib's signature
        return super().do_open(self._watch.connection(http_class), req, **kwargs)


class _Http(_Watched, urllib.request.HTTPHandler):
    pass


class _Https(_Watched, urllib.request.HTTPSHandler):
    pass


class _SameHostRedirects(urllib.request.HTTPRedirectHandler):
    """Follows a redirect on the same host (http to https included), refuses one to another host or to http."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001, ANN201 - urllib's signature
        old, new = urllib.parse.urlsplit(req.full_url), urllib.parse.urlsplit(newurl)
        if new.hostname != old.hostname or (old.scheme == "https" and new.scheme != "https"):
            fp.close()
            raise ResponseRefused(f"arXiv API {endpoint(req.full_url)} redirected (HTTP {code}) to "
                                  f"{new.scheme}://{new.netloc}, another host or an unencrypted one; refused")
        return super().redirect_request(req, fp, code, msg, headers, newurl)
