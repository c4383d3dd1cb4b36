"""A headless Chromium driven over the DevTools protocol, for the browser tests.

Chromium's ``--remote-debugging-pipe`` speaks the protocol over file
descriptors 3 and 4 (JSON messages ending in a NUL byte), so no websocket
library and no port are needed. :func:`load` opens one page at one window
width and reports what a reader would meet: requests made, console errors,
uncaught exceptions, and how wide the page is against the window.
"""

from __future__ import annotations

import base64
import json
import os
import queue
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

#: Debian's package is `chromium`; other systems name it otherwise.
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    return next((path for name in CANDIDATES if (path := shutil.which(name))), None)


@dataclass
class PageVisit:
    """What loading a page at one width showed."""

    url: str
    width: int
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    scroll_width: int = 0
    client_width: int = 0
    checks: dict = field(default_factory=dict)

    @property
    def scrolls_sideways(self) -> bool:
        return self.scroll_width > self.client_width

    @property
    def fetched(self) -> list[str]:
        """Requests for anything but the page itself and inline data."""
        return [url for url in self.requests if url != self.url and not url.startswith("data:")]


class Chromium:
    """One headless browser; pages are loaded one at a time in fresh tabs."""

    def __init__(self, executable: str, timeout: float = 30.0) -> None:
        self.timeout = timeout
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def wire() -> None:  # in the child: the pipes become fds 3 and 4 (by way of free numbers, as either may be 3 or 4)
            os.dup2(to_browser_r, 100)
            os.dup2(from_browser_w, 101)
            os.dup2(100, 3)
            os.dup2(101, 4)

        self.process = subprocess.Popen(
            [executable, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
             "--no-first-run", "--disable-extensions", "--hide-scrollbars", "about:blank"],
            preexec_fn=wire, pass_fds=(3, 4),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._messages: queue.Queue = queue.Queue()
        self._next_id = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        buffer = b""
        while chunk := os.read(self._from_browser, 65536):
            buffer += chunk
            *messages, buffer = buffer.split(b"\0")
            for message in messages:
                self._messages.put(json.loads(message))

    def send(self, method: str, params: dict | None = None, session: str | None = None,
             events: list | None = None) -> dict:
        """Call a protocol method and wait for its answer; events meanwhile go to ``events``."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            answer = self._messages.get(timeout=max(0.1, deadline - time.monotonic()))
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer["result"]
            if events is not None:
                events.append(answer)

    def wait_for(self, method: str, events: list) -> None:
        """Wait until the event ``method`` arrives (events meanwhile go to ``events``)."""
        deadline = time.monotonic() + self.timeout
        while not any(e.get("method") == method for e in events):
            events.append(self._messages.get(timeout=max(0.1, deadline - time.monotonic())))

    def load(self, path: Path, width: int, height: int = 900, screenshot: Path | None = None,
             checks: dict[str, str] | None = None, full_page: bool = True) -> PageVisit:
        """Load ``path`` in a window ``width`` px wide; ``checks`` are JavaScript expressions to evaluate.

        The screenshot, taken after the checks, is of the whole page, or of the
        window alone when ``full_page`` is false (what a check left open on it).
        """
        url = path.resolve().as_uri()
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        events: list = []
        for domain in ("Page", "Network", "Runtime", "Log"):
            self.send(f"{domain}.enable", session=session, events=events)
        # A phone's viewport: narrow and scaled as a phone scales it.
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
                  session=session, events=events)
        self.send("Page.navigate", {"url": url}, session=session, events=events)
        self.wait_for("Page.loadEventFired", events)
        time.sleep(0.3)  # scripts that run after load (GX's ran on document ready) get their turn

        def evaluate(expression: str):
            result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True},
                               session=session, events=events)
            return result["result"].get("value")

        visit = PageVisit(url=url, width=width)
        visit.scroll_width = evaluate("document.documentElement.scrollWidth")
        visit.client_width = evaluate("document.documentElement.clientWidth")
        visit.checks = {name: evaluate(expression) for name, expression in (checks or {}).items()}
        if screenshot is not None:
            if full_page:
                full = evaluate("document.documentElement.scrollHeight")
                self.send("Emulation.setDeviceMetricsOverride",
                          {"width": width, "height": min(full, 12000), "deviceScaleFactor": 1,
                           "mobile": width < 600}, session=session, events=events)
            shot = self.send("Page.captureScreenshot", {"format": "png"}, session=session, events=events)
            screenshot.write_bytes(base64.b64decode(shot["data"]))
        for event in events:
            params = event.get("params", {})
            if event.get("method") == "Network.requestWillBeSent":
                visit.requests.append(params["request"]["url"])
            elif event.get("method") == "Runtime.exceptionThrown":
                visit.console_errors.append(params["exceptionDetails"].get("exception", {}).get(
                    "description", params["exceptionDetails"].get("text", "")))
            elif event.get("method") == "Runtime.consoleAPICalled" and params.get("type") == "error":
                visit.console_errors.append(" ".join(str(a.get("value", a.get("description"))) for a in params["args"]))
            elif event.get("method") == "Log.entryAdded" and params["entry"]["level"] == "error":
                visit.console_errors.append(params["entry"]["text"])
        self.send("Target.closeTarget", {"targetId": target})
        return visit

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        os.close(self._to_browser)
