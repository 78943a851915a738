"""The App Home through signed HTTP and the Slack stand-in: `app_home_opened` publishes a
valid home (at most 100 blocks) with the health, open alerts, trends and the approvals
waiting for the user; clicks in the home (approve, command buttons) run through the same
handlers and publish the home again, with the answer on top."""
from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from slack_sdk.models.views import View

from bot.actions import requests
from bot.alerts.engine import run_check
from bot.bus import Bus
from bot.services import history
from bot.settings import Settings
from commands.router import run, run_action
from tests.alerts.helpers import fill_dlq
from tests.blockcheck import assert_valid_message
from tests.conftest import FakeClock
from tests.e2e.slack_stub import TEAM, http, signed_headers
from tests.jobs_helpers import seed_dlq
from tests.runtime_helpers import manual_runtime

PUBLISH = "/api/views.publish"


@pytest.fixture
def ops_bus(r):
    return Bus(r, Settings(_env_file=None, bus_operators="U0ALICE,U0BOB", bus_alert_for=0,
                           bus_environment_name="staging"), where="test redis")


def home_opened(bot, user: str) -> None:
    body = json.dumps({"token": "legacy", "team_id": TEAM, "api_app_id": "A0E2E", "type": "event_callback",
                       "event_id": f"Ev{user}", "event_time": 1764000000,
                       "event": {"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": "home",
                                 "event_ts": "1764000000.000100"}})
    headers = {**signed_headers(body), "Content-Type": "application/json"}

    status, _, _ = http("POST", bot.url + "/slack/events", body, headers)
    assert status == 200


def home_click(bot, action_id: str, value: str, user: str) -> None:
    """A button in the home: a view container, no channel and no response_url."""
    payload = {"type": "block_actions", "user": {"id": user, "username": "u", "team_id": TEAM},
               "api_app_id": "A0E2E", "token": "legacy", "trigger_id": "1.2.3", "team": {"id": TEAM, "domain": "e2e"},
               "container": {"type": "view", "view_id": "V0HOME"},
               "view": {"id": "V0HOME", "type": "home", "team_id": TEAM, "blocks": [], "hash": "1"},
               "actions": [{"type": "button", "action_id": action_id, "block_id": "b1", "value": value,
                            "action_ts": "1764000001.000200", "text": {"type": "plain_text", "text": "x"}}]}

    status, body = bot.post_signed(urlencode({"payload": json.dumps(payload)}))
    assert (status, body) == (200, "")


def published(stub, n: int = 1) -> dict:
    call = stub.wait_for(PUBLISH, n=n)[n - 1]
    view = call["view"] if isinstance(call["view"], dict) else json.loads(call["view"])
    assert view["type"] == "home"
    blocks = view["blocks"]
    assert 0 < len(blocks) <= 100
    View(**view).to_dict()  # slack_sdk's own checks of a view
    for i in range(0, len(blocks), 50):  # each block within Slack's limits
        assert_valid_message({"text": "home", "blocks": blocks[i:i + 50]})
    return {"user": call["user_id"], "blocks": blocks, "text": json.dumps(blocks, ensure_ascii=False)}


def test_the_home_shows_health_alerts_trends_and_approvals(start_bot, stub, ops_bus):
    clock = FakeClock()
    ops_bus.clock = clock
    fill_dlq(ops_bus.r, ops_bus.keys.dlq, 600)
    history.record(ops_bus, clock.ms - 600_000, {"dlq_size": 220.0, "failed_per_hour": 1.0})
    run_check(ops_bus)
    clock.advance(60)
    run_check(ops_bus)  # the DLQ alert fires (hold time 0)
    rt = manual_runtime(ops_bus)
    token = run("reprocess all", rt, "U0ALICE").context["buttons"][0]["value"]
    run_action("guard_confirm", token, rt, "U0ALICE", "C0E2E")  # awaiting approval, asked in C0E2E
    bot = start_bot(ops_bus)
    home_opened(bot, "U0BOB")
    home = published(stub)
    assert home["user"] == "U0BOB"
    text = home["text"]
    assert "busbot · staging" in text and "Event bus: CRITICAL" in text
    assert "DLQ size* — critical" in text and "Waiting for your approval" in text
    assert "DLQ 220 -&gt; 600 in 11m" in text  # the last 24 h
    approve = [e for b in home["blocks"] if b["type"] == "actions" for e in b["elements"]
               if e["action_id"] == "guard_approve"]
    assert [e["value"] for e in approve] == [token]
    home_opened(bot, "U0ALICE")  # the requester sees it as theirs, without buttons
    own = published(stub, 2)
    assert "guard_approve" not in own["text"] and "Your requests waiting for another operator" in own["text"]


def test_approve_from_the_home_counts_and_the_home_is_published_again(start_bot, stub, ops_bus):
    seed_dlq(ops_bus.r, ops_bus.keys.dlq, 5)
    rt = manual_runtime(ops_bus)
    token = run("reprocess all", rt, "U0ALICE").context["buttons"][0]["value"]
    run_action("guard_confirm", token, rt, "U0ALICE", "C0E2E")
    bot = start_bot(ops_bus)
    home_click(bot, "guard_approve", token, "U0BOB")
    home = published(stub)
    assert home["user"] == "U0BOB"
    req = requests.get(ops_bus, token)
    assert req is not None and req.state == "APPROVED" and req.approved_by == "U0BOB"
    assert "Your last click" in home["text"] and "another channel" not in home["text"]
    assert "Waiting for your approval*\\nNothing." in home["text"]  # the home shows the state after it
    told = stub.wait_for("/api/chat.postMessage")[0]  # and the channel where it was asked hears of it
    assert told["channel"] == "C0E2E" and "Job" in told["text"]


def test_a_command_button_in_the_home_shows_its_answer_on_top(start_bot, stub, ops_bus):
    bot = start_bot(ops_bus)
    home_click(bot, "bus_run", "silences", "U0CAROL")
    home = published(stub)
    assert home["user"] == "U0CAROL" and "Alert silences" in home["text"]
    assert home["text"].index("Alert silences") < home["text"].index("Open alerts")
    assert "Waiting for your approval" not in home["text"]  # not an operator


def test_a_refused_click_in_the_home_says_so_there(start_bot, stub, ops_bus):
    bot = start_bot(ops_bus)
    home_click(bot, "guard_approve", "nonexistent", "U0CAROL")
    assert "Only busbot operators" in published(stub)["text"]


def test_someone_who_may_not_read_the_bus_sees_only_why(start_bot, stub, ops_bus):
    ops_bus.settings = ops_bus.settings.model_copy(update={"bus_viewers": "U0VIEW"})
    bot = start_bot(ops_bus)
    home_opened(bot, "U0CAROL")
    home = published(stub)
    assert "not one of them" in home["text"] and "BUS_VIEWERS" in home["text"]
    assert "Open alerts" not in home["text"] and "bus_run" not in home["text"]
