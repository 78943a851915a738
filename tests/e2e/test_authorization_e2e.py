"""Button authorization through the signed HTTP endpoint: the Slack adapter passes the
channel a button was clicked in, so an approval counts only where it was asked; a
non-operator cannot cancel a preview; Post to channel never re-runs a guarded command."""
from __future__ import annotations

import json
from urllib.parse import parse_qs, urlencode

import pytest

from bot.actions import requests
from bot.bus import Bus
from bot.settings import Settings
from tests.e2e.blocks import buttons, valid_message
from tests.e2e.slack_stub import CHANNEL, action_body, command_body
from tests.jobs_helpers import seed_dlq


@pytest.fixture
def ops_bus(r):
    return Bus(r, Settings(_env_file=None, bus_operators="U0ALICE,U0BOB"), where="test redis")


def click(bot, stub, action_id: str, value: str, name: str, user: str, channel: str = CHANNEL) -> dict:
    body = action_body(action_id, value, stub.response_url(name), user)
    if channel != CHANNEL:  # the same button, clicked somewhere else
        payload = json.loads(parse_qs(body)["payload"][0])
        payload["channel"]["id"] = payload["container"]["channel_id"] = channel
        body = urlencode({"payload": json.dumps(payload)})
    status, text = bot.post_signed(body)
    assert (status, text) == (200, "")
    msg = stub.wait_for(f"/response/{name}")[0]
    valid_message(msg)
    return msg


def preview(bot, stub, name: str) -> dict:
    status, _ = bot.post_signed(command_body("reprocess type=crm.contact.created", stub.url + f"response/{name}",
                                             "U0ALICE"))
    assert status == 200
    return stub.wait_for(f"/response/{name}")[0]


def test_an_approval_clicked_in_another_channel_is_refused(start_bot, stub, ops_bus):
    seed_dlq(ops_bus.r, ops_bus.keys.dlq, 20)
    bot = start_bot(ops_bus)
    token = buttons(preview(bot, stub, "p"))["guard_confirm"]
    request = click(bot, stub, "guard_confirm", token, "c", "U0ALICE")
    assert "Approval needed" in request["text"]
    assert requests.get(ops_bus, token).channel == CHANNEL
    elsewhere = click(bot, stub, "guard_approve", token, "dm", "U0BOB", channel="D0SOMEWHERE")
    assert "another channel" in elsewhere["text"] and elsewhere["response_type"] == "ephemeral"
    assert requests.get(ops_bus, token).state == "AWAITING"
    approved = click(bot, stub, "guard_approve", token, "ok", "U0BOB")
    assert approved["response_type"] == "in_channel" and requests.get(ops_bus, token).state == "APPROVED"


def test_a_non_operator_cannot_cancel_a_preview(start_bot, stub, ops_bus):
    seed_dlq(ops_bus.r, ops_bus.keys.dlq, 20)
    bot = start_bot(ops_bus)
    token = buttons(preview(bot, stub, "p"))["guard_cancel"]
    refused = click(bot, stub, "guard_cancel", token, "eve", "U0EVE")
    assert "Only busbot operators" in refused["text"]
    assert requests.get(ops_bus, token).state == "PREVIEWED"


def test_post_to_channel_does_not_run_guarded_text(start_bot, stub, ops_bus):
    seed_dlq(ops_bus.r, ops_bus.keys.dlq, 20)
    bot = start_bot(ops_bus)
    msg = click(bot, stub, "bus_share", "reprocess all", "share", "U0ALICE")
    assert "read-only" in msg["text"] and msg["response_type"] == "ephemeral"
    assert not list(ops_bus.r.scan_iter(ops_bus.keys.approval("*")))
