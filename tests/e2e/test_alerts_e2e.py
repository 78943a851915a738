"""Alerts end to end: `busbot serve` as a process on a real redis-server, its scheduler
checking every second, posting to a local Slack stand-in that first answers 429."""
from __future__ import annotations

import json

import pytest

from bot.keys import Keys
from bot.settings import Settings
from tests.alerts.helpers import checks_later, drain_dlq, fill_dlq
from tests.e2e.slack_stub import SECRET, Recorded, _decode, action_body, http, signed_headers
from tests.e2e.test_serve_process import busbot, wait_healthy
from tests.redis_server import free_port

POST, UPDATE = "/api/chat.postMessage", "/api/chat.update"
KEYS = Keys.from_settings(Settings(_env_file=None))


def answer_429_first(stub, method: str, retry_after: int = 1) -> None:
    """Make the stand-in refuse the first call of `method` with 429 + Retry-After."""
    base = stub.server.RequestHandlerClass
    pending = [method]

    class Handler(base):
        def do_POST(self):
            if self.path.removeprefix("/api/") not in pending:
                return super().do_POST()
            pending.remove(self.path.removeprefix("/api/"))
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            stub._record(Recorded(self.path + "#429", _decode(raw, self.headers.get("Content-Type", ""))))
            data = json.dumps({"ok": False, "error": "ratelimited"}).encode()
            self.send_response(429)
            self.send_header("Retry-After", str(retry_after))
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    stub.server.RequestHandlerClass = Handler


@pytest.fixture
def alerting_bot(redis_server, real_r, stub):
    answer_429_first(stub, "chat.postMessage")
    fill_dlq(real_r, KEYS.dlq, 600)
    port = free_port()
    proc = busbot("serve", PORT=str(port), REDIS_URL=redis_server.url, SLACK_SIGNING_SECRET=SECRET,
                  SLACK_BOT_TOKEN="xoxb-e2e", SLACK_API_URL=stub.api_url, BUS_ALERT_CHANNEL="C0ALERTS",
                  BUS_CHECK_INTERVAL="1", BUS_ALERT_FOR="0")
    url = f"http://127.0.0.1:{port}"
    wait_healthy(url, proc)
    yield url
    proc.terminate()
    assert proc.wait(15) == 0


def test_alert_posted_after_429_acknowledged_and_resolved_in_place(alerting_bot, real_r, stub):
    assert stub.wait_for(POST + "#429")[0]["channel"] == "C0ALERTS"
    root = stub.wait_for(POST, timeout=15)[0]
    assert root["channel"] == "C0ALERTS" and "thread_ts" not in root
    assert "DLQ size — CRITICAL" in json.dumps(root["blocks"], ensure_ascii=False)
    assert root["text"].startswith("DLQ size: critical")
    ack = next(e for b in root["blocks"] if b["type"] == "actions" for e in b["elements"]
               if e["action_id"] == "alert_ack")
    body = action_body("alert_ack", ack["value"], stub.response_url("ack"))
    assert http("POST", alerting_bot + "/slack/events", body, signed_headers(body))[0] == 200
    assert "Acknowledged" in stub.wait_for("/response/ack")[0]["text"]
    updated = stub.wait_for(UPDATE, timeout=15)[0]
    assert "Acknowledged by <@U0BOB>" in json.dumps(updated["blocks"], ensure_ascii=False)
    line = stub.wait_for(POST, n=2, timeout=15)[1]
    assert line["thread_ts"] and "Acknowledged by <@U0BOB>" in json.dumps(line["blocks"], ensure_ascii=False)
    assert "Acknowledged by &lt;@U0BOB&gt;" in line["text"]  # the notification text never pings
    drain_dlq(real_r, KEYS.dlq, 0)
    resolved = stub.wait_for(UPDATE, n=2, timeout=15)[1]
    assert "DLQ size — resolved" in json.dumps(resolved["blocks"], ensure_ascii=False)
    assert "Resolved after" in stub.wait_for(POST, n=3, timeout=15)[2]["text"]
    roots = [b for b in stub.to(POST) if "thread_ts" not in b]
    assert len(roots) == 1, "one root message per episode"


def serve(redis_server, stub, **extra):
    port = free_port()
    proc = busbot("serve", PORT=str(port), REDIS_URL=redis_server.url, SLACK_SIGNING_SECRET=SECRET,
                  SLACK_BOT_TOKEN="xoxb-e2e", SLACK_API_URL=stub.api_url, BUS_ALERT_CHANNEL="C0ALERTS",
                  BUS_CHECK_INTERVAL="1", BUS_ALERT_FOR="0", **extra)
    wait_healthy(f"http://127.0.0.1:{port}", proc)
    return proc


def test_two_serve_processes_and_a_restart_post_each_transition_once(redis_server, real_r, stub):
    fill_dlq(real_r, KEYS.dlq, 600)
    procs = [serve(redis_server, stub), serve(redis_server, stub)]
    try:
        stub.wait_for(POST, timeout=15)
        checks_later(real_r, KEYS.alert_last_check)
        procs[0].terminate()
        assert procs[0].wait(15) == 0
        procs[0] = serve(redis_server, stub)  # a restart
        checks_later(real_r, KEYS.alert_last_check)
        assert len(stub.to(POST)) == 1 and stub.to(UPDATE) == []
        drain_dlq(real_r, KEYS.dlq, 0)
        stub.wait_for(UPDATE, timeout=15)
        stub.wait_for(POST, n=2, timeout=15)
        checks_later(real_r, KEYS.alert_last_check)
        assert len(stub.to(UPDATE)) == 1 and len(stub.to(POST)) == 2
    finally:
        for p in procs:
            p.terminate()
            p.wait(15)
