"""Silences, routing and the mention end to end: `busbot serve` as a process on a real
redis-server, checking every second, driven by signed HTTP (`/bus silence`, `/bus alerts`,
`/bus silences`, Expire now) and posting to the local Slack stand-in, which knows one user
group (usergroups.list)."""
from __future__ import annotations

import json

import pytest

from bot.keys import Keys
from bot.settings import Settings
from tests.alerts.helpers import checks_later, fill_dlq
from tests.e2e import slack_stub
from tests.e2e.blocks import buttons, valid_message
from tests.e2e.slack_stub import SECRET, action_body, command_body, http, signed_headers
from tests.e2e.test_serve_process import busbot, wait_ready
from tests.redis_server import free_port

POST = "/api/chat.postMessage"
KEYS = Keys.from_settings(Settings(_env_file=None))


@pytest.fixture
def serving(redis_server, real_r, stub, monkeypatch):
    monkeypatch.setitem(slack_stub.API_ANSWERS, "usergroups.list",
                        {"usergroups": [{"id": "S0PLAT", "handle": "oncall-platform"}]})
    port = free_port()
    proc = busbot("serve", PORT=str(port), REDIS_URL=redis_server.url, SLACK_SIGNING_SECRET=SECRET,
                  SLACK_BOT_TOKEN="xoxb-e2e", SLACK_API_URL=stub.api_url, BUS_ALERT_CHANNEL="C0ALERTS",
                  BUS_ALERT_CHANNEL_CRITICAL="C0CRIT", BUS_ALERT_MENTION="@oncall-platform",
                  BUS_ENVIRONMENT_NAME="production", BUS_OPERATORS="U0ALICE",
                  BUS_CHECK_INTERVAL="1", BUS_ALERT_FOR="0")
    url = f"http://127.0.0.1:{port}"
    wait_ready(url, proc)
    yield url
    proc.terminate()
    assert proc.wait(15) == 0


def ask(url: str, stub, text: str, name: str, user: str = "U0ALICE") -> dict:
    body = command_body(text, stub.url + f"response/{name}", user)
    assert http("POST", url + "/slack/events", body, signed_headers(body))[0] == 200
    message = stub.wait_for(f"/response/{name}", timeout=15)[0]
    valid_message(message)
    return message


def test_a_silence_holds_the_critical_alert_back_until_it_is_expired(serving, real_r, stub):
    silenced = ask(serving, stub, "silence rule=dlq_size for=2h reason=known incident", "s")
    assert silenced["response_type"] == "in_channel" and "Silenced" in silenced["text"]
    fill_dlq(real_r, KEYS.dlq, 600)
    checks_later(real_r, KEYS.alert_last_check)
    assert stub.to(POST) == []  # firing, silenced: nothing posted
    alerts = ask(serving, stub, "alerts", "a")
    shown = json.dumps(alerts["blocks"], ensure_ascii=False)
    assert "*DLQ size* — critical" in shown and "silenced by <@U0ALICE>" in shown and "known incident" in shown
    listing = ask(serving, stub, "silences", "l", user="U0BOB")  # anyone may look
    body = action_body("silence_expire", buttons(listing)["silence_expire"], stub.response_url("x"), "U0ALICE")
    assert http("POST", serving + "/slack/events", body, signed_headers(body))[0] == 200
    assert "Ended the silence" in stub.wait_for("/response/x", timeout=15)[0]["text"]
    root = stub.wait_for(POST, timeout=15)[0]
    assert root["channel"] == "C0CRIT" and "thread_ts" not in root
    blocks = json.dumps(root["blocks"], ensure_ascii=False)
    assert "<!subteam^S0PLAT>" in blocks and "DLQ size — CRITICAL" in blocks and "production" in root["text"]
    checks_later(real_r, KEYS.alert_last_check)
    assert len(stub.to(POST)) == 1  # posted once


def test_a_warning_goes_to_the_alert_channel_without_a_mention(serving, real_r, stub):
    fill_dlq(real_r, KEYS.dlq, 150)
    root = stub.wait_for(POST, timeout=15)[0]
    assert root["channel"] == "C0ALERTS" and "<!subteam" not in json.dumps(root["blocks"])
    assert "DLQ size — WARNING" in json.dumps(root["blocks"], ensure_ascii=False)
