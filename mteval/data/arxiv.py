"""arXiv's API (Atom ``query`` endpoint): abstracts by id and version, fetched politely and cached per version."""
from __future__ import annotations

import http.client
import logging
import os
import socket
import threading
import time
import urllib.error
import urllib.parse
from collections.abc import Sequence

from mteval.data import arxiv_http
from mteval.data.arxiv_atom import ArxivEntry, RefusedFeed, parse_feed, split_version
from mteval.data.arxiv_cache import ArxivCache
from mteval.data.sacrebleu_cache import offline
from mteval.errors import DataUnavailableError

log = logging.getLogger(__name__)

# https://info.arxiv.org/help/api/user-manual.html; MTEVAL_ARXIV_API points elsewhere (a mirror, the tests' server).
DEFAULT_API = "https://export.arxiv.org/api/query"
# arXiv's API terms of use (https://info.arxiv.org/help/api/tou.html): no more than one request
# every three seconds, one connection at a time. Kept process-wide, whatever the number of clients.
MIN_INTERVAL_S = 3.0
TIMEOUT_S = 30.0
RETRIES = 3  # attempts after the first, on 5xx, 429, timeouts, dropped connections and cut-off bodies
BACKOFF_S = 3.0  # doubled after each failed attempt; a Retry-After header, when longer, wins (up to MAX_WAIT_S)
MAX_WAIT_S = 60.0
# id_list length per request: few requests, short URLs. max_results must be raised with it:
# the API returns 10 results unless told otherwise (user manual 3.1.1.2).
BATCH_SIZE = 50
_lock = threading.Lock()
_last_request = [float("-inf")]


def api_url() -> str:
    return os.environ.get("MTEVAL_ARXIV_API") or DEFAULT_API


def user_agent() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        ours = version("mteval")
    except PackageNotFoundError:
        ours = "dev"
    return f"mteval/{ours} (machine-translation evaluation harness; fetches the abstracts of a few listed arXiv ids)"


class ArxivClient:
    """Requests to the ``query`` endpoint: rate-limited, retried with backoff, each bounded in time and size.

    Args:
        api: the endpoint (None: ``$MTEVAL_ARXIV_API``, else arXiv's).
        timeout_s: seconds to wait for each read. deadline_s: seconds for a whole request (None: DEADLINE_S).
        min_interval_s: seconds between requests (None: arXiv's 3).
        retries, backoff_s: attempts after the first and the first wait (None: RETRIES, BACKOFF_S).
        batch_size: ids per request.
    """

    def __init__(self, *, api: str | None = None, timeout_s: float = TIMEOUT_S, deadline_s: float | None = None,
                 min_interval_s: float | None = None, retries: int | None = None, backoff_s: float | None = None,
                 batch_size: int = BATCH_SIZE):
        # None: the module's constants as they are now (tests lower them for a whole command)
        self.api = api or api_url()
        self.timeout_s = timeout_s
        self.deadline_s = arxiv_http.DEADLINE_S if deadline_s is None else deadline_s
        self.min_interval_s = MIN_INTERVAL_S if min_interval_s is None else min_interval_s
        self.retries = RETRIES if retries is None else retries
        self.backoff_s = BACKOFF_S if backoff_s is None else backoff_s
        self.batch_size = batch_size
        self.requests = 0  # HTTP requests sent, retries included
        self.answered_by: dict[str, str] = {}  # versioned id -> the endpoint that served it (after a redirect)

    def query(self, ids: Sequence[str]) -> tuple[list[ArxivEntry], list[str]]:
        """Entries for ``ids`` (versioned or not), ``batch_size`` per request, and arXiv's error messages.

        Raises:
            DataUnavailableError: offline, or a request failed after every retry (one line, with the cause).
        """
        ids = list(dict.fromkeys(ids))
        if not ids:
            return [], []
        if offline():
            raise DataUnavailableError(f"{len(ids)} arXiv abstract(s) are not in the cache and MTEVAL_OFFLINE/"
                                       f"HF_DATASETS_OFFLINE forbids fetching them from {self.api}")
        entries: list[ArxivEntry] = []
        errors: list[str] = []
        for start in range(0, len(ids), self.batch_size):
            batch = ids[start : start + self.batch_size]
            params = urllib.parse.urlencode({"id_list": ",".join(batch), "start": 0, "max_results": len(batch)})
            got, errs = self._get(f"{self.api}?{params}")
            entries += got
            errors += errs
        return entries, errors

    def _get(self, url: str) -> tuple[list[ArxivEntry], list[str]]:
        wait = self.backoff_s
        for attempt in range(self.retries + 1):
            retry_after = None
            try:
                body, answered = self._request(url)
                entries, errors = parse_feed(body)
                self.answered_by.update((e.versioned_id, arxiv_http.endpoint(answered)) for e in entries)
                return entries, errors
            except RefusedFeed as err:  # the same answer again would be refused again
                raise arxiv_http.ResponseRefused(f"arXiv API {self.api}: refused its answer: {err}") from None
            except urllib.error.HTTPError as err:
                if err.code < 500 and err.code != 429:
                    raise DataUnavailableError(f"arXiv API {self.api} answered HTTP {err.code} {err.reason}; "
                                               "check the ids in the id map") from None
                cause = f"HTTP {err.code}"
                retry_after = _seconds(err.headers.get("Retry-After") if err.headers else None)
            except arxiv_http.DeadlineExceeded as err:
                cause = str(err)
            except TimeoutError:
                cause = f"no response within {self.timeout_s:g} s"
            except (OSError, http.client.HTTPException) as err:  # URLError, a reset connection, a cut-off body
                reason = getattr(err, "reason", err)
                if isinstance(reason, TimeoutError):
                    cause = f"no response within {self.timeout_s:g} s"
                else:
                    cause = f"cannot reach it ({reason})"
                    if isinstance(reason, socket.gaierror):  # no DNS, no network: waiting will not help
                        raise DataUnavailableError(f"arXiv API {self.api}: {cause}") from None
            except ValueError as err:  # a cut-off or garbled body: arXiv sometimes serves one under load
                cause = f"malformed response: {err}"
            if attempt == self.retries:
                break
            delay = min(max(wait, retry_after or 0.0), MAX_WAIT_S)
            log.warning("arXiv API: %s; retrying in %.0f s (%d of %d)", cause, delay, attempt + 1, self.retries)
            time.sleep(delay)
            wait *= 2
        raise DataUnavailableError(f"arXiv API {self.api}: {cause} ({self.retries + 1} attempts)")

    def _request(self, url: str) -> tuple[bytes, str]:
        with _lock:  # one request at a time, at least min_interval_s apart (arXiv's terms)
            pause = _last_request[0] + self.min_interval_s - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            self.requests += 1
            try:
                return arxiv_http.get(url, headers={"User-Agent": user_agent(), "Accept": "application/atom+xml"},
                                      timeout_s=self.timeout_s, deadline_s=self.deadline_s)
            finally:
                _last_request[0] = time.monotonic()


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None  # an HTTP date: the backoff decides


def fetch_abstracts(ids: Sequence[str], *, cache: ArxivCache,
                    client: ArxivClient | None) -> tuple[dict[str, ArxivEntry], dict[str, str]]:
    """The abstract behind each id (``2112.04417``: the latest version; ``2112.04417v1``: that one), cache first.

    Args:
        ids: arXiv ids, with or without a version.
        cache: read first; what is fetched is written there.
        client: None: the cache only.

    Returns:
        Entries by requested id, and for each id without one the reason. An id or version arXiv
        did not serve is cached as absent (ArxivCache.absent) and not asked for again for a while.
        A failing request (offline, unreachable, refused) raises DataUnavailableError.
    """
    found: dict[str, ArxivEntry] = {}
    missing: dict[str, str] = {}
    for wanted in dict.fromkeys(ids):
        base, version = split_version(wanted)
        version = version or cache.latest(base)
        entry = cache.get(base, version) if version else None
        if entry is not None:
            found[wanted] = entry
        elif (why := cache.absent(wanted)) is not None:  # not served when last asked: not asked again yet
            missing[wanted] = why
    todo = [i for i in dict.fromkeys(ids) if i not in found and i not in missing]
    if not todo:
        return found, missing
    if client is None:
        return found, {**missing, **{i: f"not in the cache ({cache.root})" for i in todo}}
    entries, errors = client.query(todo)
    by_version = {(e.arxiv_id, e.version): e for e in entries}
    latest = {}
    for e in entries:
        latest[e.arxiv_id] = max(latest.get(e.arxiv_id, 0), e.version)
    for wanted in todo:
        base, version = split_version(wanted)
        entry = by_version.get((base, version or latest.get(base, 0)))
        if entry is None:
            served = sorted(v for b, v in by_version if b == base)
            missing[wanted] = (f"arXiv served v{', v'.join(map(str, served))} instead" if served else
                               "missing from arXiv's response" + (f" ({'; '.join(errors)})" if errors else ""))
            cache.put_absent(wanted, missing[wanted], api=client.api)
            continue
        cache.put(entry, api=client.answered_by.get(entry.versioned_id, client.api), latest=version is None)
        found[wanted] = entry
    return found, missing
