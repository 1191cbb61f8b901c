"""WMT22 en-zh/zh-en text for the tests, from wherever this machine has it: a mirror, sacrebleu's cache, a download.

The tests read WMT22 through sacrebleu's registry from a private cache (``$SACREBLEU`` set by the
test session), so a developer's own cache is never written or read by accident. ``provide`` fills
that private cache from the first source that has the text:

1. a local mirror (``MTEVAL_SHARED/data/wmt22``: the official en-zh XML, zh-en as text files);
2. sacrebleu's own cache (``$SACREBLEU`` or ``~/.sacrebleu`` as the user had it) holding the release;
3. a download of the release into that cache, as ``sacrebleu -t wmt22`` would do, when the release's
   server answers a HEAD request within a few seconds (so an offline machine learns it at once);

else it returns None and the tests that need the text are skipped with ``NEEDS`` as the reason.
"""
from __future__ import annotations

import os
import threading
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from mteval.data.sacrebleu_cache import ensure_downloaded, entry, is_cached, raw_files
from mteval.errors import DataUnavailableError
from mteval.testing.sacrebleu_mirror import copy_release, lay_out

PAIRS = ("en-zh", "zh-en")
NEEDS = ("needs WMT22 (sacrebleu's wmt22 release): set MTEVAL_SHARED to a mirror, "
         "or run `sacrebleu -t wmt22 -l en-zh --echo src` once with network")
_OFFLINE_VARS = ("MTEVAL_OFFLINE", "HF_DATASETS_OFFLINE")


def mirror_has_text(mirror: Path) -> bool:
    return (mirror / "en-zh" / "wmttest2022.en-zh.all.xml").is_file() and (mirror / "zh-en").is_dir()


def cached_release(cache: Path) -> list[Path] | None:
    """The release's en-zh and zh-en XML files in the sacrebleu cache ``cache``, or None when not all are there."""
    files = []
    for pair in PAIRS:
        ds = entry("wmt22", pair, str(cache))
        if not is_cached(ds, pair):
            return None
        files += raw_files(ds, pair)
    return files


def reachable(url: str, timeout_s: float) -> bool:
    """Whether ``url`` answers a HEAD request within ``timeout_s`` (DNS included: the wait runs in a thread)."""
    answered = []

    def ask() -> None:
        try:
            with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout_s):
                answered.append(True)
        except (OSError, ValueError):
            pass

    worker = threading.Thread(target=ask, daemon=True)
    worker.start()
    worker.join(timeout_s)
    return bool(answered)


@contextmanager
def _downloads_allowed():
    """The test session forbids downloads (MTEVAL_OFFLINE=1); this one download is the exception."""
    saved = {v: os.environ.pop(v) for v in _OFFLINE_VARS if v in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


def download(cache: Path, timeout_s: float) -> list[Path] | None:
    """Download the release into ``cache`` when its server answers; the XML files, or None."""
    ds = entry("wmt22", PAIRS[0], str(cache))
    if not reachable(ds.data[0], timeout_s):
        return None
    with _downloads_allowed():
        try:
            for pair in PAIRS:
                ensure_downloaded(entry("wmt22", pair, str(cache)), pair)
        except DataUnavailableError:
            return None
    return cached_release(cache)


def provide(root: Path, *, mirror: Path, user_cache: Path, timeout_s: float = 5.0) -> str | None:
    """Fill the sacrebleu cache ``root`` with WMT22 en-zh and zh-en; a phrase naming the source, or None."""
    if mirror_has_text(mirror):
        lay_out(mirror, root)
        return f"the mirror {mirror}"
    files = cached_release(user_cache)
    source = f"sacrebleu's cache {user_cache}"
    if files is None:
        files = download(user_cache, timeout_s)
        source = f"a download into {user_cache}"
    if files is None:
        return None
    copy_release(files, root)
    return source
