"""The role policy without Slack: viewers, operators, approvers from ids, groups and API
token names; the same answers on the console and the API; and the Slack group directory's
cache (a short TTL, a refresh on a miss, the last known members during an outage)."""
from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.actions import policy
from bot.actions.policy import Group
from bot.bus import Bus
from bot.settings import Settings
from bot.slack.groups import SlackGroups
from commands import router
from tests.runtime_helpers import manual_runtime
from tests.web.conftest import TOKENS, dash_app


class Directory:
    def __init__(self, groups: dict[str, set[str]], stale: bool = False):
        self.groups, self.stale, self.asked = groups, stale, 0

    def group(self, entry: str, user: str | None = None) -> Group | None:
        self.asked += 1
        users = self.groups.get(entry)
        return None if users is None else Group(entry, entry, frozenset(users), self.stale)


def rt_with(r, groups: dict[str, set[str]] | None = None, **settings):
    rt = manual_runtime(Bus(r, Settings(_env_file=None, **settings), where="test redis"))
    if groups is not None:
        rt.groups = Directory(groups)
    return rt


def test_viewers_operators_and_approvers(r):
    rt = rt_with(r, {"@oncall": {"U2"}, "S0LEADS": {"U3"}}, bus_viewers="U1,@oncall", bus_operators="@oncall",
                 bus_approvers="S0LEADS")
    s = rt.bus.settings
    assert [bool(policy.has_role(s, rt.groups, u, policy.VIEWER)) for u in ("U1", "U2", "U3", "U9")] == \
        [True, True, True, False]  # approvers read too
    assert [bool(policy.has_role(s, rt.groups, u, policy.OPERATOR)) for u in ("U1", "U2", "U3")] == \
        [False, True, False]
    assert [bool(policy.has_role(s, rt.groups, u, policy.APPROVER)) for u in ("U1", "U2", "U3")] == \
        [False, False, True]
    refused = router.run("health", rt, "U9")
    assert refused.text == "Only busbot viewers can run /bus health, and you are not one of them."
    assert router.run("help", rt, "U9").template == "help" and router.run("whoami", rt, "U9").template == "whoami"
    assert router.run("approvals", rt, "U3").template != "guard_notice"  # a lead lists what waits for them
    assert "Only busbot operators" in router.run("approvals", rt, "U1").text


def test_empty_approvers_are_the_operators(r):
    rt = rt_with(r, {}, bus_operators="U1,U2")
    assert policy.has_role(rt.bus.settings, rt.groups, "U2", policy.APPROVER).grant.setting == "BUS_OPERATORS"
    assert policy.role_name(rt.bus.settings, policy.APPROVER) == "operators"


def test_without_a_directory_a_group_entry_matches_nobody(r):
    rt = rt_with(r, None, bus_operators="@oncall,console")
    assert "Only busbot operators" in router.run("pause", rt, "someone").text
    assert router.run("whoami", rt, "console").text == "You are console: viewer, operator, approver."


def test_api_tokens_get_roles_by_name_and_never_through_groups(r):
    directory = Directory({"@oncall": {"api:alice"}})
    rt = rt_with(r, None, bus_viewers="api:alice,@oncall", bus_operators="api:alice",
                 bus_api_tokens=",".join(f"{k}:{v}" for k, v in TOKENS.items()))
    rt.groups = directory
    api = dash_app(rt).test_client()
    ok = api.get("/events/dlq", headers={"Authorization": f"Bearer {TOKENS['alice']}"})
    assert ok.status_code == 200
    refused = api.get("/events/dlq", headers={"Authorization": f"Bearer {TOKENS['bob']}"})
    assert refused.status_code == 403 and refused.json["error"].startswith("Only busbot viewers can")
    assert directory.asked == 0  # a token's identity is never looked up in Slack
    rows = [f for _, f in rt.bus.r.xrange(rt.bus.keys.audit)]
    assert [(f["who"], f["result"]) for f in rows] == [("api:bob", "not a viewer")]


class FakeSlack:
    def __init__(self):
        self.members = {"S0ONCALL": ["U1"]}
        self.down = False
        self.calls: list[str] = []

    def _check(self, method: str) -> None:
        self.calls.append(method)
        if self.down:
            raise SlackApiError("down", {"ok": False, "error": "service_unavailable"})

    def usergroups_list(self, **_):
        self._check("usergroups.list")
        return {"usergroups": [{"id": "S0ONCALL", "handle": "oncall"}]}

    def usergroups_users_list(self, usergroup: str, **_):
        self._check("usergroups.users.list")
        return {"users": list(self.members.get(usergroup, []))}


@pytest.fixture
def slack_groups():
    now = [0.0]
    groups = SlackGroups(WebClient(token="xoxb-test"), ttl=60, miss_after=10, clock=lambda: now[0])
    fake = FakeSlack()
    groups.client = fake  # type: ignore[assignment]
    return groups, fake, now


def test_members_are_cached_and_read_again_on_a_miss(slack_groups):
    groups, fake, now = slack_groups
    assert groups.group("@oncall", "U1").users == {"U1"}
    assert groups.group("@oncall", "U1").users == {"U1"}
    assert fake.calls == ["usergroups.list", "usergroups.users.list"]  # the second answer came from the cache
    fake.members["S0ONCALL"].append("U2")
    assert "U2" not in groups.group("@oncall", "U2").users  # a miss just after a read: not asked again yet
    now[0] = 11
    assert "U2" in groups.group("@oncall", "U2").users  # a miss asks again
    now[0] = 100
    groups.group("S0ONCALL", "U1")
    assert fake.calls.count("usergroups.users.list") == 3  # the TTL passed


def test_an_outage_keeps_the_last_known_members(slack_groups):
    groups, fake, now = slack_groups
    assert groups.group("@oncall", "U1").stale is False
    fake.down, now[0] = True, 1000
    during = groups.group("@oncall", "U1")
    assert during is not None and during.users == {"U1"} and during.stale
    assert groups.group("@nobody-knows") is None and groups.group("S0OTHER") is None  # never read: no members
    asked = len(fake.calls)
    fake.down, now[0] = False, 1010
    assert groups.group("@oncall", "U1").stale and len(fake.calls) == asked  # backing off: Slack not asked
    now[0] = 1031
    assert not groups.group("@oncall", "U1").stale  # asked again after the backoff


def test_a_process_started_during_an_outage_knows_the_members_another_read(r):
    from bot.slack.groups import RedisMemory
    bus = Bus(r, Settings(_env_file=None), where="test redis")
    first = SlackGroups(WebClient(token="xoxb-test"), memory=RedisMemory(bus))
    first.client = FakeSlack()  # type: ignore[assignment]
    assert first.group("@oncall", "U1").users == {"U1"}
    later = SlackGroups(WebClient(token="xoxb-test"), memory=RedisMemory(bus))
    fake = FakeSlack()
    fake.down = True
    later.client = fake  # type: ignore[assignment]
    for entry in ("@oncall", "S0ONCALL"):
        group = later.group(entry, "U1")
        assert group is not None and group.users == {"U1"} and group.stale, entry
    assert later.group("@unknown", "U1") is None


def test_the_dashboard_keeps_out_non_viewers_and_lets_an_approver_approve(r):
    from bot.actions import requests
    from tests.factories import add_dlq
    from tests.web.conftest import csrf_of
    from tests.web.test_dashboard_http import post, signed_in
    rt = rt_with(r, None, bus_viewers="api:alice", bus_operators="api:alice", bus_approvers="api:bob",
                 bus_api_tokens=",".join(f"{k}:{v}" for k, v in TOKENS.items()), bus_dashboard_secret="s")
    ids = [add_dlq(rt.bus.r, rt.bus.keys.dlq, 1_764_000_000_000 + i)[0] for i in range(3)]
    app = dash_app(rt)
    vic = app.test_client()
    vic.post("/admin/login", data={"token": TOKENS["vic"], "csrf_token": csrf_of(vic.get("/admin/login").text)})
    refused = vic.get("/admin/events/dlq")
    assert refused.status_code == 403 and "Only busbot viewers can see the dashboard" in refused.text
    alice, bob = signed_in(app, "alice"), signed_in(app, "bob")  # bob approves, and so reads too
    resp = post(alice, "/admin/events/dlq/selected", "/admin/events/dlq", ids=ids[:2], action="reprocess")
    token = resp.headers["Location"].rsplit("/", 1)[1]
    post(alice, f"/admin/events/requests/{token}/confirm", f"/admin/events/requests/{token}")
    assert requests.get(rt.bus, token).state == "AWAITING"
    by_alice = post(alice, f"/admin/events/requests/{token}/approve", f"/admin/events/requests/{token}")
    assert by_alice.status_code == 403 and "Only busbot approvers" in by_alice.text
    post(bob, f"/admin/events/requests/{token}/approve", f"/admin/events/requests/{token}")
    assert requests.get(rt.bus, token).state == "APPROVED"
    results = [(f["who"], f["result"]) for _, f in rt.bus.r.xrange(rt.bus.keys.audit) if f["what"] == "refused"]
    assert results == [("api:vic", "not a viewer"), ("api:alice", "not an approver")]


def test_every_button_needs_at_least_the_viewer_role(r):
    from commands.actions import ACTIONS
    rt = rt_with(r, {}, bus_viewers="U1", bus_operators="U2")
    for action_id in ACTIONS:
        reply = router.run_action(action_id, "x", rt, "U9")
        assert reply.text.startswith("Only busbot ") and "you are not one of them" in reply.text, action_id
    assert "Only busbot" not in router.run_action("bus_run", "health", rt, "U1").text


def test_a_handle_or_id_slack_does_not_know_is_a_group_nobody_is_in(slack_groups, caplog):
    groups, fake, now = slack_groups
    missing = groups.group("@no-such-team", "U1")
    assert missing is not None and missing.users == frozenset() and not missing.stale
    assert "Slack has no user group @no-such-team" in caplog.text

    def no_such(usergroup: str, **_):
        raise SlackApiError("no such", {"ok": False, "error": "no_such_subteam"})
    fake.usergroups_users_list = no_such  # type: ignore[method-assign]
    gone = groups.group("S0GONE", "U1")
    assert gone is not None and gone.users == frozenset() and not gone.stale
    assert groups.group("@oncall", "U1").users == frozenset()  # a no_such_subteam is an answer: no backoff
