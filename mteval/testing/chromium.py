"""Headless Chromium driven over the DevTools protocol on a pipe (stdlib only), for the report's browser tests and bench.

``--remote-debugging-pipe`` makes Chromium read protocol messages on fd 3 and answer on fd 4, each
a JSON object ended by a NUL byte (the transport Playwright uses), so no WebSocket client is needed.
"""
from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--hide-scrollbars",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage")
MISSING = "headless Chromium is not installed (Debian: apt-get install chromium)"


def find_chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


class BrowserError(RuntimeError):
    """The browser answered with an error, a page script threw, or it did not answer in time."""


class Chromium:
    """One headless browser with one page; ``with Chromium() as page: page.open(url, width)``.

    Args:
        env: extra environment (``FONTCONFIG_FILE`` for a browser without CJK fonts).
        cpus: CPU ids to pin the browser to (``taskset``), e.g. ``"0,1"`` for the 2-core measurement.
    """

    def __init__(self, *, env: dict[str, str] | None = None, cpus: str | None = None, timeout_s: float = 60):
        self.timeout_s = timeout_s
        self._profile = tempfile.mkdtemp(prefix="mteval-chromium-")
        exe = find_chromium()
        if exe is None:
            raise BrowserError(MISSING)
        cmd = [exe, *FLAGS, "--remote-debugging-pipe", f"--user-data-dir={self._profile}", "about:blank"]
        if cpus and shutil.which("taskset"):
            cmd = ["taskset", "-c", cpus, *cmd]
        to_browser, self._in = os.pipe()
        self._out, from_browser = os.pipe()

        def on_fds_3_and_4() -> None:  # in the child, before exec: the pipe ends where Chromium expects them
            a, b = os.dup(to_browser), os.dup(from_browser)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self._proc = subprocess.Popen(cmd, pass_fds=(3, 4), preexec_fn=on_fds_3_and_4, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL, env={**os.environ, **(env or {})})
        os.close(to_browser)
        os.close(from_browser)
        self._buf, self._id, self._session = b"", 0, None
        target = self._call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self._session = self._call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            self._session = None
            self._call("Browser.close", timeout_s=10)
        except (BrowserError, OSError):
            pass
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        for fd in (self._in, self._out):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self._profile, ignore_errors=True)

    def _call(self, method: str, params: dict[str, Any] | None = None, *, timeout_s: float | None = None) -> dict:
        self._id += 1
        msg: dict[str, Any] = {"id": self._id, "method": method, "params": params or {}}
        if self._session:
            msg["sessionId"] = self._session
        os.write(self._in, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + (timeout_s or self.timeout_s)
        while True:
            while b"\0" in self._buf:
                line, self._buf = self._buf.split(b"\0", 1)
                answer = json.loads(line)
                if answer.get("id") == self._id:
                    if "error" in answer:
                        raise BrowserError(f"{method}: {answer['error'].get('message')}")
                    return answer.get("result", {})
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._out], [], [], left)[0]:
                raise BrowserError(f"{method}: no answer from Chromium within {timeout_s or self.timeout_s:.0f} s")
            chunk = os.read(self._out, 1 << 20)
            if not chunk:
                raise BrowserError(f"{method}: Chromium exited")
            self._buf += chunk

    def eval(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (awaited when a promise)."""
        out = self._call("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in out:
            raise BrowserError(f"{expression[:80]}: {out['exceptionDetails'].get('exception', {}).get('description')}")
        return out["result"].get("value")

    def open(self, url: str, width: int = 1280, height: int = 900) -> float:
        """Load ``url`` in a ``width`` x ``height`` window; returns the seconds until its load event ended."""
        self._call("Emulation.setDeviceMetricsOverride", {"width": width, "height": height, "deviceScaleFactor": 1,
                                                           "mobile": False})
        self._call("Page.navigate", {"url": url})
        self.wait("document.readyState === 'complete' && performance.timing.loadEventEnd > 0")
        return self.eval("performance.timing.loadEventEnd - performance.timing.navigationStart") / 1000

    def wait(self, expression: str, timeout_s: float | None = None) -> Any:
        """Poll until ``expression`` is truthy; returns its value."""
        deadline = time.monotonic() + (timeout_s or self.timeout_s)
        while time.monotonic() < deadline:
            value = self.eval(expression)
            if value:
                return value
            time.sleep(0.05)
        raise BrowserError(f"waited {timeout_s or self.timeout_s:.0f} s for {expression[:80]}")

    def press(self, key: str, code: int) -> None:
        """Press and release ``key`` (e.g. ``"Enter"``, 13) on the focused element, as a keyboard does."""
        text = "\r" if key == "Enter" else (key if len(key) == 1 else "")
        for kind in ("keyDown", "keyUp"):
            self._call("Input.dispatchKeyEvent", {"type": kind, "key": key, "code": key, "windowsVirtualKeyCode": code,
                                                  **({"text": text} if kind == "keyDown" and text else {})})

    def media(self, kind: str) -> None:
        """Lay the page out for ``kind`` media (``"print"``, or ``""`` for the screen)."""
        self._call("Emulation.setEmulatedMedia", {"media": kind})

    def type(self, text: str) -> None:
        """Type ``text`` into the focused element (fires its input events)."""
        self._call("Input.insertText", {"text": text})

    def screenshot(self, path: str | Path) -> Path:
        """A PNG of the whole page (beyond the window), at the window's width."""
        data = self._call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})["data"]
        Path(path).write_bytes(base64.b64decode(data))
        return Path(path)
