"""Slack forms through signed HTTP: `/bus replay` and `/bus reprocess` with no arguments and the
"Reprocess…" / "Edit and retry" buttons open modals (`views.open` with the trigger id);
`view_submission` is checked on its fields and leads to the usual preview, posted privately;
the edit flow runs end to end; the message shortcut looks an event up."""
from __future__ import annotations

import json
import time
from urllib.parse import urlencode

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.bus import Bus
from bot.jobs import store
from bot.settings import Settings
from tests.e2e.blocks import buttons, valid_message
from tests.e2e.slack_stub import CHANNEL, TEAM, action_body, command_body
from tests.jobs_helpers import seed_dlq, seed_events


@pytest.fixture
def ops_bus(r):
    return Bus(r, Settings(_env_file=None, bus_operators="U0ALICE,U0BOB"), where="test redis")


def valid_view(view: dict) -> dict:
    """The modal as slack_sdk accepts it (View validates its limits), blocks parsed."""
    View(**view).validate_json()
    parsed = Block.parse_all(view["blocks"])
    assert all(p is not None for p in parsed) and len(parsed) <= 100
    assert view["callback_id"].startswith("bus_") and len(view.get("private_metadata", "")) <= 3000
    return view


def command(bot, stub, text: str, name: str, user: str = "U0ALICE") -> None:
    status, body = bot.post_signed(command_body(text, stub.response_url(name), user))
    assert (status, body) == (200, "")


def click(bot, stub, action_id: str, value: str, name: str, user: str) -> None:
    status, body = bot.post_signed(action_body(action_id, value, stub.response_url(name), user))
    assert (status, body) == (200, "")


def opened_view(stub, n: int = 1) -> dict:
    call = stub.wait_for("/api/views.open", n)[n - 1]
    assert call["trigger_id"] == "1.2.3"
    view = call["view"] if isinstance(call["view"], dict) else json.loads(call["view"])
    return valid_view(view)


def submit(bot, view: dict, values: dict, user: str = "U0ALICE") -> tuple[int, str]:
    """A view_submission of `view` with `values`: block_id -> the element's state."""
    payload = {"type": "view_submission", "team": {"id": TEAM, "domain": "e2e"},
               "user": {"id": user, "username": "alice", "team_id": TEAM}, "api_app_id": "A0E2E",
               "token": "legacy", "trigger_id": "4.5.6",
               "view": {**view, "id": "V0E2E", "team_id": TEAM,
                        "state": {"values": {b: {"value": v} for b, v in values.items()}}}}
    return bot.post_signed(urlencode({"payload": json.dumps(payload)}))


def ephemeral(stub, n: int = 1) -> dict:
    msg = stub.wait_for("/api/chat.postEphemeral", n)[n - 1]
    blocks = msg["blocks"] if isinstance(msg["blocks"], list) else json.loads(msg["blocks"])
    msg = {**msg, "blocks": blocks}
    valid_message(msg)
    return msg


def all_text(message: dict) -> str:
    return "\n".join(b["text"]["text"] for b in message["blocks"] if isinstance(b.get("text"), dict))


def dt(ms: int) -> dict:
    return {"type": "datetimepicker", "selected_date_time": ms // 1000}


def text(value: str | None) -> dict:
    return {"type": "plain_text_input", "value": value}


def test_replay_with_no_arguments_opens_a_form_and_its_submission_previews(start_bot, stub, ops_bus):
    seed_events(ops_bus.r, ops_bus.keys.events, 40, start_ms=1_764_000_000_000)
    bot = start_bot(ops_bus)
    command(bot, stub, "replay", "r")
    view = opened_view(stub)
    assert view["callback_id"] == "bus_replay_form"
    assert json.loads(view["private_metadata"])["channel"] == CHANNEL
    types = next(b for b in view["blocks"] if b.get("block_id") == "types")["element"]
    assert {o["value"] for o in types["options"]} == {"approval.item.created", "crm.contact.created",
                                                      "agent.run.completed"}
    assert not stub.to("/response/r"), "the form takes the place of an answer"

    later, earlier = dt(1_764_000_010_000), dt(1_764_000_000_000)
    status, body = submit(bot, view, {"from": later, "to": earlier, "limit": {"type": "number_input", "value": "0"}})
    assert status == 200
    answer = json.loads(body)
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {"to", "limit"}, answer

    status, body = submit(bot, view, {
        "from": earlier, "to": dt(1_764_000_060_000), "tenant": text("ws_1"),
        "types": {"type": "multi_static_select", "selected_options": [{"value": "crm.contact.created"}]}})
    assert (status, body) == (200, "")
    preview = ephemeral(stub)
    assert (preview["channel"], preview["user"]) == (CHANNEL, "U0ALICE")
    assert "Replay" in preview["text"] and "guard_confirm" in buttons(preview)


def test_reprocess_button_opens_the_form_and_an_empty_submission_previews_all(start_bot, stub, ops_bus):
    seed_dlq(ops_bus.r, ops_bus.keys.dlq, 12)
    bot = start_bot(ops_bus)
    command(bot, stub, "dlq", "d")
    summary = stub.wait_for("/response/d")[0]
    assert buttons(summary)["bus_form"] == "reprocess"
    click(bot, stub, "bus_form", "reprocess", "f", "U0BOB")
    view = opened_view(stub)
    assert view["callback_id"] == "bus_reprocess_form"
    status, body = submit(bot, view, {}, user="U0BOB")
    assert (status, body) == (200, "")
    preview = ephemeral(stub)
    assert "12 of 12 DLQ entries match" in preview["text"]


def test_a_field_of_an_open_form_needs_no_answer(bot, stub):
    payload = {"type": "block_actions", "user": {"id": "U0ALICE", "team_id": TEAM}, "api_app_id": "A0E2E",
               "token": "legacy", "trigger_id": "1.2.3", "team": {"id": TEAM},
               "container": {"type": "view", "view_id": "V0E2E"},
               "view": {"id": "V0E2E", "type": "modal", "callback_id": "bus_replay_form"},
               "actions": [{"type": "datetimepicker", "action_id": "value", "block_id": "from",
                            "selected_date_time": 1_764_000_000, "action_ts": "1764000001.000200"}]}
    status, body = bot.post_signed(urlencode({"payload": json.dumps(payload)}))
    assert (status, body) == (200, "")
    command(bot, stub, "help", "after")  # the next answer arrives, and nothing else was sent
    stub.wait_for("/response/after")
    assert [r.path for r in stub.requests if r.path.startswith("/api/chat.")] == []


def test_others_get_the_refusal_not_a_form(start_bot, stub, ops_bus):
    bot = start_bot(ops_bus)
    command(bot, stub, "reprocess", "r", user="U0EVE")
    assert "Only busbot operators" in stub.wait_for("/response/r")[0]["text"]
    assert stub.to("/api/views.open") == []


def test_edit_and_retry_end_to_end(start_bot, stub, ops_bus):
    r, keys = ops_bus.r, ops_bus.keys
    seed_dlq(r, keys.dlq, 3)
    bot = start_bot(ops_bus, jobs=True)
    command(bot, stub, "dlq show 1001-0", "show")
    shown = stub.wait_for("/response/show")[0]
    valid_message(shown)
    assert {"bus_act", "bus_edit"} <= set(buttons(shown))
    click(bot, stub, "bus_edit", "1001-0", "e", "U0ALICE")
    view = opened_view(stub)
    original = json.loads(r.xrange(keys.dlq, "1001-0", "1001-0")[0][1]["event"])
    field = next(b for b in view["blocks"] if b.get("block_id") == "event")["element"]
    assert json.loads(field["initial_value"]) == original

    edited = {**original, "data": {"n": 1, "fixed": True}}
    renamed = {**edited, "type": "crm.contact.updated"}
    for bad, says in (("{not json", "not valid JSON"), (json.dumps({**edited, "source": ""}), "source"),
                      (json.dumps(renamed), "type changed")):
        status, body = submit(bot, view, {"event": text(bad)})
        answer = json.loads(body)
        assert answer["response_action"] == "errors" and says in answer["errors"]["event"], answer

    status, body = submit(bot, view, {"event": text(json.dumps(edited, indent=2))})
    assert (status, body) == (200, "")
    preview = ephemeral(stub)
    assert '+    "fixed": true' in all_text(preview), "the preview shows the diff"
    token = buttons(preview)["guard_confirm"]
    click(bot, stub, "guard_confirm", token, "c", "U0ALICE")
    request = stub.wait_for("/response/c")[0]
    valid_message(request)
    assert "Approval needed" in request["text"], "an edit always needs a second operator"
    assert '+    "fixed": true' in all_text(request), "the approver sees the diff"
    click(bot, stub, "guard_approve", token, "own", "U0ALICE")
    assert "another operator" in stub.wait_for("/response/own")[0]["text"]
    click(bot, stub, "guard_approve", token, "a", "U0BOB")
    done = stub.wait_for("/response/a")[0]
    valid_message(done)
    assert "Retried the edited event" in done["text"], done["text"]

    (new_id, fields), = [e for e in r.xrange(keys.events) if "editedFrom" in e[1]]
    assert list(fields) == ["event", "editedFrom", "editJob"]
    assert json.loads(fields["event"]) == edited and fields["editedFrom"] == "1001-0"
    job_id = fields["editJob"]
    assert [i for i, _ in r.xrange(keys.dlq)] == ["1000-0", "1002-0"]
    audit = {f["what"]: f for _, f in r.xrange(keys.audit)}
    assert json.loads(audit["edit.original"]["result"]) == original
    assert json.loads(audit["edit.edited"]["result"]) == edited
    assert audit["edit.approve"]["who"] == "U0BOB"

    command(bot, stub, f"dlq restore {job_id}", "rs")
    restore = stub.wait_for("/response/rs")[0]
    token = buttons(restore)["guard_confirm"]
    click(bot, stub, "guard_confirm", token, "rc", "U0ALICE")
    if "Approval needed" in stub.wait_for("/response/rc")[0]["text"]:
        click(bot, stub, "guard_approve", token, "ra", "U0BOB")
        stub.wait_for("/response/ra")
    deadline = time.monotonic() + 20
    while r.xlen(keys.dlq) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    back = [f for _, f in r.xrange(keys.dlq) if f.get("restoredFrom")]
    assert len(back) == 1 and json.loads(back[0]["event"]) == original
    assert back[0]["error"] == "boom"
    assert store.get(ops_bus, job_id) is None  # the edit's job id names its archive entries


def shortcut(bot, stub, message_text: str, name: str) -> dict:
    payload = {"type": "message_action", "callback_id": "bus_lookup", "trigger_id": "1.2.3",
               "team": {"id": TEAM, "domain": "e2e"}, "user": {"id": "U0ALICE", "name": "alice"},
               "channel": {"id": CHANNEL, "name": "incidents"}, "token": "legacy", "api_app_id": "A0E2E",
               "message_ts": "1764000000.000100", "response_url": stub.response_url(name),
               "message": {"type": "message", "text": message_text, "ts": "1764000000.000100", "user": "U0CAROL"}}
    status, body = bot.post_signed(urlencode({"payload": json.dumps(payload)}))
    assert (status, body) == (200, "")
    msg = stub.wait_for(f"/response/{name}")[0]
    valid_message(msg)
    assert msg["response_type"] == "ephemeral"
    return msg


def test_the_message_shortcut_looks_up_the_event_a_message_names(bot, stub, bus):
    sid = bus.r.xadd(bus.keys.events, {"event": json.dumps({"id": "clx0k2abcdefghijklmnopqrs",
                                                            "type": "crm.contact.created"})})
    by_stream_id = shortcut(bot, stub, f"consumer choked on {sid} again :(", "s1")
    assert sid in by_stream_id["text"]
    by_envelope = shortcut(bot, stub, "saw clx0k2abcdefghijklmnopqrs fail in prod", "s2")
    assert "clx0k2abcdefghijklmnopqrs" in by_envelope["text"] and "is in" in by_envelope["text"]
    nothing = shortcut(bot, stub, "is the bus ok?", "s3")
    assert "nothing to look up" in nothing["text"]


def test_the_manifest_declares_the_shortcut():
    from pathlib import Path

    from bot.slack.shortcuts import CALLBACK_ID
    manifest = (Path(__file__).resolve().parents[2] / "manifest.yml").read_text()
    assert f"callback_id: {CALLBACK_ID}" in manifest and "type: message" in manifest
