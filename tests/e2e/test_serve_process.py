"""`busbot serve` as a process: environment in, health on $PORT, clean stop on SIGTERM,
and one clear line when something it needs is missing."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.e2e.slack_stub import SECRET, command_body, http, signed_headers
from tests.redis_server import free_port

ROOT = Path(__file__).resolve().parents[2]
SETTINGS_ENV = ("SLACK_", "REDIS_URL", "PORT", "BUS_")


def env(**values: str) -> dict:
    base = {k: v for k, v in os.environ.items() if not k.startswith(SETTINGS_ENV)}
    return {**base, "PYTHONPATH": str(ROOT), **values}


def busbot(*args: str, **values: str) -> subprocess.Popen:
    """`busbot ...` with its stderr in a file (a pipe nobody reads would fill up and block it)."""
    log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - lives as long as the process
    proc = subprocess.Popen([sys.executable, "-m", "bot", *args], cwd=ROOT, env=env(**values),
                            stdout=subprocess.DEVNULL, stderr=log, text=True)
    proc.log = log
    return proc


def reap(proc: subprocess.Popen) -> None:
    """Kill a `busbot serve` a test leaves running (one that failed before stopping it)."""
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def stderr_of(proc: subprocess.Popen) -> str:
    proc.log.seek(0)
    return proc.log.read()


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 20) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"busbot serve exited: {stderr_of(proc)[-2000:]}"
        try:
            status, text, _ = http("GET", url + "/events/health", timeout=2)
            if status == 200:
                return json.loads(text)
        except OSError:
            time.sleep(0.1)
    raise AssertionError("busbot serve did not answer /events/health in time")


def wait_ready(url: str, proc: subprocess.Popen, timeout: float = 20) -> None:
    """Until /readyz says Slack accepted the token and Redis answers (the HTTP server is up
    before that, and /slack/events answers 503 until then)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"busbot serve exited: {stderr_of(proc)[-2000:]}"
        try:
            if http("GET", url + "/readyz", timeout=2)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError("busbot serve did not become ready in time")


@pytest.fixture
def serving(redis_server, stub):
    port = free_port()
    proc = busbot("serve", PORT=str(port), REDIS_URL=redis_server.url, SLACK_SIGNING_SECRET=SECRET,
                  SLACK_BOT_TOKEN="xoxb-e2e", SLACK_API_URL=stub.api_url)
    yield f"http://127.0.0.1:{port}", proc
    reap(proc)


def test_serve_answers_health_and_commands_then_stops_on_sigterm(serving, real_r, stub):
    url, proc = serving
    real_r.xgroup_create("hyvve:events", "hyvve-platform", id="$", mkstream=True)  # else: critical
    real_r.xadd("hyvve:dlq", {"event": "{}", "error": "boom"})
    doc = wait_healthy(url, proc)
    wait_ready(url, proc)
    assert doc["dlqLength"] == 1 and doc["status"] in ("healthy", "warning")
    body = command_body("health", stub.response_url("proc"))
    assert http("POST", url + "/slack/events", body, signed_headers(body))[0] == 200
    assert stub.wait_for("/response/proc")[0]["text"].startswith("Event bus is")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(15) == 0


def test_serve_without_redis_refuses_in_one_line():
    proc = busbot("serve", SLACK_SIGNING_SECRET=SECRET, SLACK_BOT_TOKEN="xoxb-e2e")
    assert proc.wait(30) == 2
    err = stderr_of(proc)
    assert err.strip().count("\n") == 0
    assert "set REDIS_URL" in err and "--demo" in err


def test_serve_without_slack_secrets_says_which(redis_server):
    proc = busbot("serve", REDIS_URL=redis_server.url)
    assert proc.wait(30) == 2
    err = stderr_of(proc)
    assert err.strip() == ("busbot serve: HTTP mode needs SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET "
                           "(from the Slack app's settings page).")


def test_serve_demo_runs_on_the_seeded_embedded_redis(stub):
    port = free_port()
    proc = busbot("serve", "--demo", PORT=str(port), SLACK_SIGNING_SECRET=SECRET,
                  SLACK_BOT_TOKEN="xoxb-e2e", SLACK_API_URL=stub.api_url)
    try:
        doc = wait_healthy(f"http://127.0.0.1:{port}", proc)
        assert doc["streamLength"] > 1000 and doc["dlqLength"] > 100 and doc["consumerGroups"] == 2
    finally:
        proc.terminate()
        assert proc.wait(15) == 0


def test_socket_mode_needs_the_bot_token_but_no_signing_secret():
    from argparse import Namespace

    from bot.settings import Settings
    from bot.slack.cli import missing

    args = Namespace(redis="redis://127.0.0.1:6379/0", demo=False)
    socket = Settings(_env_file=None, slack_app_token="xapp-1", slack_bot_token="xoxb-1")
    assert missing(socket, args) is None
    no_bot = Settings(_env_file=None, slack_app_token="xapp-1")
    assert missing(no_bot, args) == "Socket Mode needs SLACK_BOT_TOKEN (from the Slack app's settings page)."


def test_socket_mode_serves_health_but_no_slack_route(redis_server, stub):
    """With SLACK_APP_TOKEN: the websocket is asked for (apps.connections.open), $PORT keeps
    health and metrics, and there is no HTTP route for Slack. (The stand-in has no websocket.)"""
    port = free_port()
    proc = busbot("serve", PORT=str(port), REDIS_URL=redis_server.url, SLACK_BOT_TOKEN="xoxb-e2e",
                  SLACK_APP_TOKEN="xapp-e2e", SLACK_API_URL=stub.api_url)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, proc)
        stub.wait_for("/api/apps.connections.open")
        body = command_body("health", stub.response_url("socket"))
        assert http("POST", url + "/slack/events", body, signed_headers(body))[0] == 404
    finally:
        proc.terminate()
        assert proc.wait(15) == 0


def test_serve_runs_jobs_and_posts_their_progress_to_the_actions_channel(redis_server, real_r, stub):
    """The serving process builds its runtime with a Slack notifier and a job runner,
    and answers read commands from its worker processes."""
    from tests.e2e.slack_stub import action_body
    from tests.jobs_helpers import seed_dlq
    seed_dlq(real_r, "hyvve:dlq", 12)
    port = free_port()
    proc = busbot("serve", PORT=str(port), REDIS_URL=redis_server.url, SLACK_SIGNING_SECRET=SECRET,
                  SLACK_BOT_TOKEN="xoxb-e2e", SLACK_API_URL=stub.api_url, BUS_OPERATORS="U0ALICE",
                  BUS_APPROVAL_REQUIRED="", BUS_ACTIONS_CHANNEL="C0JOBS")
    try:
        url = f"http://127.0.0.1:{port}"
        wait_ready(url, proc)

        def post(body: str, name: str) -> dict:
            assert http("POST", url + "/slack/events", body, signed_headers(body))[0] == 200
            return stub.wait_for(f"/response/{name}")[0]
        top = post(command_body("dlq top", stub.response_url("top")), "top")
        assert top["blocks"][0]["text"]["text"] == "DLQ top: 12 entries"
        preview = post(command_body("reprocess all", stub.response_url("preview")), "preview")
        [token] = [b["value"] for blk in preview["blocks"] if blk["type"] == "actions"
                   for b in blk["elements"] if b["action_id"] == "guard_confirm"]
        post(action_body("guard_confirm", token, stub.response_url("confirm"), "U0ALICE"), "confirm")
        progress = stub.wait_for("/api/chat.postMessage")[0]
        assert progress["channel"] == "C0JOBS"
        deadline = time.monotonic() + 20
        while real_r.xlen("hyvve:dlq") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert real_r.xlen("hyvve:dlq") == 0 and real_r.xlen("hyvve:events") == 12
        final = stub.wait_for("/api/chat.update")[-1]
        assert final["channel"] == "C0JOBS"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0, stderr_of(proc)[-2000:]
