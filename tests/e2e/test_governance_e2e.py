"""Roles from Slack user groups, through signed HTTP and the Slack stand-in answering
usergroups.list and usergroups.users.list: a membership change counts at the next command,
approvers approve (never their own request), a Slack outage falls back to the members last
known (and the reply says so), never to everyone; refusals name the role and are audited."""
from __future__ import annotations

import pytest

from bot.bus import Bus
from bot.settings import Settings
from tests.e2e.blocks import buttons, valid_message
from tests.e2e.slack_stub import action_body, command_body
from tests.jobs_helpers import seed_dlq

GROUPS = {"usergroups": [{"id": "S0ONCALL", "handle": "oncall-platform"},
                         {"id": "S0LEADS", "handle": "platform-leads"}]}


@pytest.fixture
def members() -> dict[str, list[str]]:
    return {"S0ONCALL": ["U0ALICE"], "S0LEADS": ["U0LEAD"]}


@pytest.fixture
def gov(start_bot, stub, r, members):
    bus = Bus(r, Settings(_env_file=None, bus_operators="@oncall-platform", bus_approvers="@platform-leads"),
              where="test redis")
    stub.answers["usergroups.list"] = GROUPS
    stub.answers["usergroups.users.list"] = lambda body: {"users": list(members.get(body.get("usergroup"), []))}
    seed_dlq(bus.r, bus.keys.dlq, 5)
    bot = start_bot(bus)
    bot.rt.groups.miss_after = 0  # a miss asks Slack again at once (no waiting in a test)
    return bot, bus


class Client:
    def __init__(self, bot, stub):
        self.bot, self.stub, self.n = bot, stub, 0

    def _answer(self, body: str, name: str) -> dict:
        status, text = self.bot.post_signed(body)
        assert (status, text) == (200, "")
        msg = self.stub.wait_for(f"/response/{name}")[0]
        valid_message(msg)
        return msg

    def ask(self, text: str, user: str) -> dict:
        self.n += 1
        return self._answer(command_body(text, self.stub.response_url(f"g{self.n}"), user), f"g{self.n}")

    def click(self, action_id: str, value: str, user: str) -> dict:
        self.n += 1
        return self._answer(action_body(action_id, value, self.stub.response_url(f"g{self.n}"), user), f"g{self.n}")


def refusals(bus: Bus) -> list[tuple[str, str]]:
    return [(f["who"], f["result"]) for _, f in bus.r.xrange(bus.keys.audit) if f["what"] == "refused"]


def test_a_group_member_operates_and_a_lead_approves(gov, stub, members):
    bot, bus = gov
    c = Client(bot, stub)
    refused = c.ask("reprocess all", "U0BOB")
    assert "Only busbot operators can" in refused["text"]
    assert "@oncall-platform" in str(refused["blocks"]) and "BUS_OPERATORS" in str(refused["blocks"])
    assert refusals(bus) == [("U0BOB", "not an operator")]
    members["S0ONCALL"].append("U0BOB")  # Bob joins the on-call group: the next command counts it
    preview = c.ask("reprocess all", "U0BOB")
    token = buttons(preview)["guard_confirm"]
    request = c.click("guard_confirm", token, "U0BOB")
    assert "Approval needed" in request["text"]
    by_alice = c.click("guard_approve", buttons(request)["guard_approve"], "U0ALICE")  # an operator, not a lead
    assert "Only busbot approvers can approve guarded actions" in by_alice["text"]
    assert "@platform-leads" in str(by_alice["blocks"])
    approved = c.click("guard_approve", buttons(request)["guard_approve"], "U0LEAD")
    assert approved["response_type"] == "in_channel" and "Only busbot" not in approved["text"]
    assert ("U0ALICE", "not an approver") in refusals(bus)
    whoami = c.ask("whoami", "U0LEAD")
    assert "approver" in whoami["text"] and "operator" not in whoami["text"]
    assert "@platform-leads" in str(whoami["blocks"])


def test_a_lead_never_approves_their_own_request(gov, stub, members):
    bot, bus = gov
    members["S0ONCALL"].append("U0LEAD")
    c = Client(bot, stub)
    request = c.click("guard_confirm", buttons(c.ask("reprocess all", "U0LEAD"))["guard_confirm"], "U0LEAD")
    own = c.click("guard_approve", buttons(request)["guard_approve"], "U0LEAD")
    assert "another operator has to approve it" in own["text"]


def test_slack_down_falls_back_to_the_last_known_members_not_to_everyone(gov, stub, members):
    bot, bus = gov
    c = Client(bot, stub)
    assert "guard_confirm" in buttons(c.ask("reprocess all", "U0ALICE"))  # members read once
    stub.down |= {"usergroups.list", "usergroups.users.list"}
    bot.rt.groups.ttl = 0  # every check now asks Slack, which is down
    still = c.ask("reprocess all", "U0ALICE")
    assert "guard_confirm" in buttons(still) and "last knew of @oncall-platform" in str(still["blocks"])
    whoami = c.ask("whoami", "U0ALICE")
    assert "operator" in whoami["text"] and "last knew" in str(whoami["blocks"])
    outsider = c.ask("reprocess all", "U0EVE")
    assert "Only busbot operators can" in outsider["text"] and "last knew" in str(outsider["blocks"])
    assert ("U0EVE", "not an operator") in refusals(bus)


def test_a_group_never_read_gives_nobody_a_role(start_bot, stub, r):
    bus = Bus(r, Settings(_env_file=None, bus_operators="@oncall-platform", bus_viewers="@oncall-platform"),
              where="test redis")
    stub.down |= {"usergroups.list", "usergroups.users.list"}
    bot = start_bot(bus)
    c = Client(bot, stub)
    refused = c.ask("dlq", "U0ALICE")
    assert "Only busbot viewers can" in refused["text"] and "could not read" in str(refused["blocks"])
    assert "You are" in c.ask("whoami", "U0ALICE")["text"]  # whoami always answers
    assert refusals(bus) == [("U0ALICE", "not a viewer")]
