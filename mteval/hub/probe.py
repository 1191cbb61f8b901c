"""Is the Hugging Face Hub reachable? Asked once per process, in seconds, before any download is tried.

Without this, a missing model on a machine without network costs about 50 s of huggingface_hub's
``Retrying in Ns`` warnings before an error that does not say the Hub was unreachable.
"""
from __future__ import annotations

import logging
import os
import urllib.error
import urllib.request

log = logging.getLogger(__name__)

PROBE_TIMEOUT_S = 5.0
_ANSWER: tuple[bool, str] | None = None


def endpoint() -> str:
    """The Hub the libraries talk to (``HF_ENDPOINT`` for a mirror)."""
    from huggingface_hub import constants

    return constants.ENDPOINT


def reachable(timeout: float = PROBE_TIMEOUT_S) -> tuple[bool, str]:
    """(whether the Hub answers, why not). Any HTTP answer counts, even an error status: the
    question is the network path (DNS, proxy, firewall), not the Hub's health."""
    global _ANSWER
    if _ANSWER is None:
        url = endpoint().rstrip("/") + "/api/models?limit=1"
        try:
            urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout).close()  # noqa: S310
            _ANSWER = (True, "")
        except urllib.error.HTTPError:
            _ANSWER = (True, "")
        except (urllib.error.URLError, OSError) as err:
            reason = getattr(err, "reason", err)
            _ANSWER = (False, f"{type(reason).__name__}: {reason}" if not isinstance(reason, str) else reason)
    return _ANSWER


#: Ways to a model when the Hub cannot be reached from this machine.
OTHER_WAYS = ("set HTTPS_PROXY for a proxy or HF_ENDPOINT for a mirror, or copy a Hugging Face cache "
              "(~/.cache/huggingface) from a machine that has the models and set HF_HUB_OFFLINE=1")


def unreachable_reason(reason: str) -> str:
    """Why the Hub counts as unreachable, in words."""
    return f"the Hugging Face Hub ({endpoint()}) cannot be reached ({reason})"


def unreachable_fix(reason: str) -> str:
    """The one-line explanation and the ways out."""
    return f"{unreachable_reason(reason)}: connect this machine to the network, {OTHER_WAYS}"


def go_offline() -> None:
    """Make this process use the local cache only, so no library retries the unreachable Hub."""
    from huggingface_hub import constants

    os.environ["HF_HUB_OFFLINE"] = "1"
    constants.HF_HUB_OFFLINE = True
    log.warning("the Hugging Face Hub (%s) cannot be reached; using the local cache only (as with HF_HUB_OFFLINE=1)",
                endpoint())
