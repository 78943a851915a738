"""The runbook's `curl` lines, as docs/runbook-map.md quotes them, run by real curl against
the serving app on a real HTTP server (waitress, as `busbot serve` runs it) over a real
redis-server: only the host is changed; the paths, headers and bodies are the runbook's, byte
for byte.

Skips when curl is missing, and fails instead when CI=1."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.bus import Bus
from bot.runtime import build_runtime
from bot.web.app import create_app
from bot.web.server import HttpServer
from tests.runtime_helpers import RecordingNotifier
from tests.web.test_api import TOKENS, api_settings, seed_runbook_bus

pytestmark = pytest.mark.real_redis

MAP = Path(__file__).resolve().parents[2] / "docs" / "runbook-map.md"
HOST = "https://api.your-domain.com"


def curl_lines() -> list[str]:
    """The bash blocks of the map's section of the runbook's curl lines, in order."""
    text = MAP.read_text(encoding="utf-8")
    section = text.split("## The runbook's `curl` lines, unchanged", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.*?)\n```", section, re.S)


def test_the_map_quotes_every_curl_line_of_the_runbook():
    lines = curl_lines()
    assert len(lines) == 9 and all(line.startswith("curl ") and HOST in line for line in lines)
    paths = [re.search(rf"{re.escape(HOST)}(\S+)", line).group(1) for line in lines]  # type: ignore[union-attr]
    assert paths == ["/events/health", "/events/dlq/reprocess", "/events/dlq/reprocess-type", "/events/replay",
                     "/events/replay", "/events/replay/status/<job-id>", "/events/consumers/pause",
                     "/events/consumers/resume", "/events/dlq/reprocess-all"]


@pytest.fixture
def served(real_r) -> Iterator[tuple[str, Bus]]:
    bus = Bus(real_r, api_settings(), where="test redis")
    rt = build_runtime(bus, RecordingNotifier(), poll_s=0.05)
    http = HttpServer(create_app(bus, None, probe=bus, rt=rt), host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=http.run, name="runbook-curl", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{http.port}", bus
    finally:
        http.stop()
        http.stopped.wait(15)
        rt.stop()


def curl(line: str, url: str) -> tuple[int, dict]:
    """Run one of the runbook's lines with bash and curl (ADMIN_TOKEN an operator's token)."""
    if not shutil.which("curl"):
        if os.environ.get("CI"):
            raise RuntimeError("CI=1 but curl is missing: .ci/run must install it")
        pytest.skip("curl not installed (CI installs it)")
    command = line.replace(HOST, url) + " -sS -w '\\n%{http_code}'"
    out = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=60,
                         env={"PATH": os.environ["PATH"], "ADMIN_TOKEN": TOKENS["ops"]}, check=True)
    body, _, code = out.stdout.rpartition("\n")
    return int(code), json.loads(body)


def test_every_curl_line_of_the_runbook_works_unchanged(served):
    url, bus = served
    seed_runbook_bus(bus.r, bus)
    health, one, by_type, by_time, by_limit, status, pause, resume, everything = curl_lines()

    code, doc = curl(health, url)
    assert code == 200 and doc["dlqLength"] == 31 and doc["consumerGroups"] == 1 and doc["status"]
    code, doc = curl(one, url)
    assert code == 200 and doc["status"] == "COMPLETED" and doc["moved"] == 1, doc
    job_id = doc["jobId"]
    assert bus.r.xrange(bus.keys.dlq, "1234567890-0", "1234567890-0") == []
    code, doc = curl(by_type, url)
    assert code == 202 and doc["status"] == "AWAITING_APPROVAL" and doc["toMove"] == 10, doc
    code, doc = curl(by_time, url)
    assert code == 202 and doc["status"] == "AWAITING_APPROVAL" and doc["toMove"] == 8, doc
    code, doc = curl(by_limit, url)
    assert code == 202 and doc["status"] == "AWAITING_APPROVAL" and doc["toMove"] == 8, doc
    code, doc = curl(status.replace("<job-id>", job_id), url)
    assert code == 200 and (doc["jobId"], doc["status"], doc["moved"]) == (job_id, "COMPLETED", 1), doc
    code, doc = curl(pause, url)
    assert code == 200 and (doc["group"], doc["paused"]) == ("hyvve-platform", True), doc
    assert bus.r.exists(bus.keys.paused("hyvve-platform"))
    code, doc = curl(resume, url)
    assert code == 200 and doc["paused"] is False, doc
    code, doc = curl(everything, url)
    assert code == 202 and doc["status"] == "AWAITING_APPROVAL" and doc["toMove"] == 30, doc
