"""Headless Chromium for the report tests and benchmark: finding (or installing) it, opening a page, and what the
page did: console messages, network requests, charts drawn, render time, a screenshot.

Chromium is Debian's ``chromium`` with ``chromium-driver`` (/usr/bin/chromium, /usr/bin/chromedriver), driven by
selenium. ``ensure_chromium`` installs both with apt-get when they are missing and the process is root (at most
``APT_TIMEOUT`` seconds; ``ALLOCATOR_INSTALL_CHROMIUM=0`` turns this off); otherwise it returns the reason they
are not available, and the tests skip with it.
The browser runs with the flags a closed network needs (no background networking, no component updates, no
sync) and a fresh profile.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
APT_TIMEOUT = 600  # seconds for apt-get update and install together (about 170 s seen on the project machine)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1280,1000", "--hide-scrollbars"]

#: The console levels that fail a report: errors (a script error, a refused request, a CSP violation) and warnings
#: (plotly's warnings about bad figure data). Chromium's INFO and DEBUG messages are not the page's fault.
FAILING_LEVELS = {"SEVERE", "WARNING"}

#: Requests a self-contained page may make: itself (file:) and what it builds in memory (data:, blob:).
LOCAL_SCHEMES = ("file:", "data:", "blob:")

# Each chart: drawn when its SVG holds at least one trace with a visible mark (a bar, a line, a heatmap image).
CHARTS_JS = """
const plots = [...document.querySelectorAll('.js-plotly-plot')];
const visible = el => { const b = el.getBBox(); return b.width > 0 || b.height > 0; };
return {
  expected: Number(document.body.dataset.charts || 0),
  found: plots.length,
  empty: plots.filter(p => {
    const svg = p.querySelector('.main-svg');
    const traces = p.querySelectorAll('.cartesianlayer .trace, .cartesianlayer .hm');
    const marks = [...p.querySelectorAll('.cartesianlayer .trace path, .cartesianlayer .hm image')];
    return !svg || traces.length === 0 || !marks.some(visible);
  }).map(p => p.id),
  load_ms: performance.getEntriesByType('navigation')[0].loadEventEnd,
  first_paint_ms: (performance.getEntriesByType('paint').find(e => e.name === 'first-contentful-paint')
                   || {}).startTime,
  first_screen_ms: Number(document.body.dataset.firstScreenMs || 0),
  drawn_ms: Number(document.body.dataset.drawnMs || 0),
  height: document.documentElement.scrollHeight,
};
"""


def ensure_chromium() -> str | None:
    """None when Chromium and ChromeDriver are there (installed now if need be), else why not."""
    if CHROMIUM.exists() and CHROMEDRIVER.exists():
        return None
    if os.environ.get("ALLOCATOR_INSTALL_CHROMIUM") == "0":
        return "headless Chromium is not installed (/usr/bin/chromium, /usr/bin/chromedriver) and " \
               "ALLOCATOR_INSTALL_CHROMIUM=0: apt-get install chromium chromium-driver"
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("apt-get") is None:
        return "headless Chromium is not installed (/usr/bin/chromium, /usr/bin/chromedriver) and this is not a " \
               "root Debian system to install it: apt-get install chromium chromium-driver"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        for command in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "chromium", "chromium-driver"]):
            subprocess.run(command, check=True, capture_output=True, timeout=APT_TIMEOUT, env=env)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        return f"installing Debian's chromium and chromium-driver failed: {error}"
    return None if CHROMIUM.exists() and CHROMEDRIVER.exists() else "apt-get installed no /usr/bin/chromium"


@dataclass
class PageReport:
    """What the browser saw when it opened one page."""

    console: list[dict[str, Any]]  # the failing console entries
    requests: list[str]  # URLs the page asked for beyond itself (not file:, data: or blob:)
    charts: dict[str, Any]  # expected, found, empty (ids), load_ms, first_paint_ms, first_screen_ms, drawn_ms, height


class Browser:
    """One Chromium session for many pages (starting one costs about 2 s)."""

    def __init__(self) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        self.profile = tempfile.mkdtemp(prefix="allocator-chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = str(CHROMIUM)
        for flag in [*FLAGS, f"--user-data-dir={self.profile}"]:
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
        self.driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)

    def open(self, path: Path, timeout: float = 60.0) -> PageReport:
        """Open ``path``, wait until every chart has its SVG, and say what happened."""
        from selenium.webdriver.support.ui import WebDriverWait

        self.driver.get_log("browser")  # drop what earlier pages left
        self.driver.get_log("performance")
        self.driver.set_page_load_timeout(timeout)
        url = path.resolve().as_uri()
        self.driver.get(url)
        # the page draws the charts below the first screen when idle (page.LOADER): wait for the last one
        WebDriverWait(self.driver, timeout).until(lambda d: d.execute_script(
            "return [...document.querySelectorAll('.js-plotly-plot')].length >= Number(document.body.dataset.charts "
            "|| 0) && [...document.querySelectorAll('.js-plotly-plot')].every(p => p.querySelector('.main-svg')) "
            "&& (Number(document.body.dataset.charts || 0) === 0 || document.body.dataset.drawnMs !== undefined)"))
        charts = self.driver.execute_script(CHARTS_JS)
        console = [e for e in self.driver.get_log("browser") if e.get("level") in FAILING_LEVELS]
        requests = []
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            params = message.get("params", {})
            # the page's own requests (Chromium's start page may still be loading chrome:// parts of its own)
            if message.get("method") == "Network.requestWillBeSent" and params.get("documentURL") == url \
                    and not params["request"]["url"].startswith(LOCAL_SCHEMES):
                requests.append(params["request"]["url"])
        return PageReport(console, requests, charts)

    def screenshot(self, path: Path, height: int | None = None) -> Path:
        """A PNG of the whole page (or of its first ``height`` pixels), 1280 pixels wide."""
        full = int(self.driver.execute_script("return document.documentElement.scrollHeight"))
        clip = {"x": 0, "y": 0, "width": 1280, "height": min(height or full, full), "scale": 1}
        shot = self.driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "clip": clip,
                                                                       "captureBeyondViewport": True})
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def close(self) -> None:
        self.driver.quit()
        shutil.rmtree(self.profile, ignore_errors=True)
