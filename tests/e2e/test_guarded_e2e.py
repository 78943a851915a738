"""Guarded reprocess through the HTTP endpoint: signed `/bus reprocess`, then block_actions
clicks (confirm, self-approval, approval by a second operator), answered via response_url;
the job runs in the serving process's background runner."""
from __future__ import annotations

import time

import pytest

from bot.bus import Bus
from bot.jobs import store
from bot.settings import Settings
from tests.e2e.blocks import buttons, valid_message
from tests.e2e.slack_stub import action_body, command_body
from tests.jobs_helpers import seed_dlq, seed_events


@pytest.fixture
def ops_bus(r):
    return Bus(r, Settings(_env_file=None, bus_operators="U0ALICE,U0BOB"), where="test redis")


def click(bot, stub, action_id: str, value: str, name: str, user: str) -> dict:
    status, body = bot.post_signed(action_body(action_id, value, stub.response_url(name), user))
    assert (status, body) == (200, "")
    msg = stub.wait_for(f"/response/{name}")[0]
    valid_message(msg)
    return msg


def test_bulk_reprocess_through_slack(start_bot, stub, ops_bus):
    seed_dlq(ops_bus.r, ops_bus.keys.dlq, 30)
    bot = start_bot(ops_bus, jobs=True)
    status, _ = bot.post_signed(command_body("reprocess type=crm.contact.created", stub.url + "response/p", "U0ALICE"))
    assert status == 200
    preview = stub.wait_for("/response/p")[0]
    valid_message(preview)
    assert "10 of 30 DLQ entries match" in preview["text"]
    token = buttons(preview)["guard_confirm"]
    request = click(bot, stub, "guard_confirm", token, "c", "U0ALICE")
    assert request["response_type"] == "in_channel" and "Approval needed" in request["text"]
    own = click(bot, stub, "guard_approve", token, "self", "U0ALICE")
    assert "another operator" in own["text"]
    eve = click(bot, stub, "guard_approve", token, "eve", "U0EVE")
    assert "Only busbot operators" in eve["text"] and eve["response_type"] == "ephemeral"
    job_msg = click(bot, stub, "guard_approve", token, "a", "U0BOB")
    assert job_msg["replace_original"] is True and job_msg["response_type"] == "in_channel"
    job_id = job_msg["text"].split()[1]
    again = click(bot, stub, "guard_approve", token, "a2", "U0BOB")
    assert "nothing runs twice" in again["text"]
    deadline = time.monotonic() + 20
    while store.get(ops_bus, job_id).status == "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.05)
    job = store.get(ops_bus, job_id)
    assert (job.status, job.moved, job.by, job.approved_by) == ("COMPLETED", 10, "U0ALICE", "U0BOB")
    assert ops_bus.r.xlen(ops_bus.keys.dlq) == 20


def _command(bot, stub, text: str, name: str, user: str = "U0ALICE") -> dict:
    status, _ = bot.post_signed(command_body(text, stub.url + f"response/{name}", user))
    assert status == 200
    msg = stub.wait_for(f"/response/{name}")[0]
    valid_message(msg)
    return msg


@pytest.mark.parametrize("text, approval, says", [
    ("dlq delete 1003-0", False, "(delete)"),
    ("dlq purge type=agent.run.completed", True, "(purge)"),
    ("replay from=1970-01-01T00:16:40Z to=1970-01-01T00:16:40.020Z types=crm.contact.created", True, "(replay)"),
    ("trim 10", True, "Trimmed"),
    ("pause", False, "paused"),
])
def test_each_guarded_command_through_slack(start_bot, stub, ops_bus, text, approval, says):
    seed_dlq(ops_bus.r, ops_bus.keys.dlq, 12)
    seed_events(ops_bus.r, ops_bus.keys.events, 40)
    ops_bus.r.xgroup_create(ops_bus.keys.events, ops_bus.keys.group, id="$")
    bot = start_bot(ops_bus, jobs=True)
    preview = _command(bot, stub, text, "p")
    token = buttons(preview)["guard_confirm"]
    out = click(bot, stub, "guard_confirm", token, "c", "U0ALICE")
    if approval:
        assert "Approval needed" in out["text"]
        out = click(bot, stub, "guard_approve", token, "a", "U0BOB")
    assert says in out["text"], out["text"]
    if out["text"].startswith("Job "):
        job_id = out["text"].split()[1]
        deadline = time.monotonic() + 20
        while store.get(ops_bus, job_id).active and time.monotonic() < deadline:
            time.sleep(0.05)
        assert store.get(ops_bus, job_id).status == "COMPLETED"
    _command(bot, stub, "audit 3", "audit")
    kind = text.split()[1] if text.startswith("dlq ") else text.split()[0]
    recorded = [f["what"] for _, f in ops_bus.r.xrange(ops_bus.keys.audit)]
    assert f"{kind}.confirm" in recorded, recorded
    assert (f"{kind}.approve" in recorded) == approval, recorded
