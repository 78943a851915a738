"""The dashboard served for real: a Flask app with the dashboard blueprint, served by
werkzeug on 127.0.0.1:<free port> in a thread, over a real redis-server, and headless
Chromium from Debian driven by Selenium (Debian's chromium-driver works with Selenium as it
is: nothing is downloaded).

Browser tests skip when chromium or chromedriver is missing, and fail instead when CI=1.
Screenshots go to $BUSBOT_SCREENSHOTS if set, else to the test's temporary folder.
"""
from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from bot.bus import Bus
from bot.runtime import Runtime, build_runtime
from bot.settings import Settings
from bot.web.app import create_app
from tests.runtime_helpers import RecordingNotifier

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
TOKENS = {"alice": "tok-alice-0123456789", "bob": "tok-bob-0123456789", "vic": "tok-vic-0123456789"}
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1360,1000"]


def dash_settings(**overrides) -> Settings:
    base = {"bus_api_tokens": ",".join(f"{k}:{v}" for k, v in TOKENS.items()),
            "bus_operators": "api:alice,api:bob", "bus_dashboard_secret": "test secret"}
    return Settings(_env_file=None, **{**base, **overrides})


def dash_app(rt: Runtime) -> Flask:
    """The serving app (no Slack route: as in Socket Mode) with the dashboard."""
    return create_app(rt.bus, None, rt=rt)


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "the page carries no CSRF token"
    return m.group(1)


@dataclass
class Served:
    url: str
    rt: Runtime
    notifier: RecordingNotifier

    @property
    def bus(self) -> Bus:
        return self.rt.bus


@pytest.fixture
def served(real_r, request) -> Iterator[Served]:
    """The dashboard on a free port, a background job runner polling every 0.1 s."""
    overrides = getattr(request, "param", {}) or {}
    bus = Bus(real_r, dash_settings(**overrides), where="test redis")
    notifier = RecordingNotifier()
    rt = build_runtime(bus, notifier, poll_s=0.1)
    server = make_server("127.0.0.1", 0, dash_app(rt), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="dashboard-test", daemon=True)
    thread.start()
    try:
        yield Served(f"http://127.0.0.1:{server.server_port}", rt, notifier)
    finally:
        server.shutdown()
        rt.stop()


def _require_chromium() -> None:
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not shutil.which(p)]
    if missing:
        if os.environ.get("CI"):
            raise RuntimeError(f"CI=1 but {', '.join(missing)} is missing: "
                               ".ci/run must install chromium and chromium-driver")
        pytest.skip("chromium / chromedriver not installed (CI installs them)")


@pytest.fixture
def browser(tmp_path_factory) -> Iterator:
    """A factory of headless Chromium sessions (each its own profile, so its own cookies)."""
    _require_chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    drivers = []

    def start():
        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for flag in FLAGS:
            opts.add_argument(flag)
        opts.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
        driver.implicitly_wait(0)
        drivers.append(driver)
        return driver

    yield start
    for d in drivers:
        d.quit()


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("BUSBOT_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
