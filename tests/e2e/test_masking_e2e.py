"""Personal data end to end: `busbot serve`'s HTTP app, driven by signed Slack requests, the
admin API and the dashboard over HTTP, and the alert runner, shows a DLQ entry full of
personal data masked on every path, and no search finds it by a fragment of a raw value."""
from __future__ import annotations

import json
import logging
import re
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar

import pytest

from bot.alerts.runner import AlertRunner
from bot.bus import Bus
from bot.settings import Settings
from commands.router import run_action
from tests.alerts.helpers import FakeTransport, fill_dlq, tick
from tests.conftest import FakeClock
from tests.e2e.blocks import buttons, valid_message
from tests.e2e.slack_stub import action_body, command_body, http
from tests.runtime_helpers import manual_runtime
from tests.test_masking import EMAIL, T0, leaked, seed
from tests.web.conftest import TOKENS

AUTH = {"Authorization": f"Bearer {TOKENS['alice']}"}


@pytest.fixture
def pii_bus(r):
    settings = Settings(_env_file=None, bus_operators="U0ALICE,api:alice", bus_mask_fields="data.customer.name",
                        bus_api_tokens=",".join(f"{k}:{v}" for k, v in TOKENS.items()),
                        bus_dashboard_secret="e2e secret", bus_alert_channel="C0ALERTS")
    return Bus(r, settings, clock=FakeClock(T0 + 3_600_000), where="test redis")


def ask(bot, stub, text: str, name: str) -> dict:
    status, body = bot.post_signed(command_body(text, stub.response_url(name), "U0ALICE"))
    assert (status, body) == (200, "")
    msg = stub.wait_for(f"/response/{name}")[0]
    valid_message(msg)
    return msg


def dashboard_pages(base: str, paths: list[str]) -> list[str]:
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    login = opener.open(base + "/admin/login").read().decode()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
    form = urllib.parse.urlencode({"token": TOKENS["alice"], "csrf_token": csrf}).encode()
    opener.open(urllib.request.Request(base + "/admin/login", data=form, headers={"Referer": base + "/admin/login"}))
    return [opener.open(base + p).read().decode() for p in paths]


def test_personal_data_is_masked_on_every_path(start_bot, stub, pii_bus, caplog):
    caplog.set_level(logging.INFO)
    entry_id, _ = seed(pii_bus)
    bot = start_bot(pii_bus)
    out = []
    for i, text in enumerate((f"dlq show {entry_id}", "dlq list", "dlq top", f"event {T0 - 1000}-0", "events",
                              "dlq")):
        out.append(json.dumps(ask(bot, stub, text, f"q{i}")))  # blocks and the top-level text
    assert "z***@h***.example" in out[0]
    share = buttons(json.loads(out[0])).get("bus_share")
    assert share, "dlq show offers Post to channel"
    status, _ = bot.post_signed(action_body("bus_share", share, stub.response_url("share"), "U0BOB"))
    assert status == 200
    shared = stub.wait_for("/response/share")[0]
    assert shared["response_type"] == "in_channel"
    out.append(json.dumps(shared))
    for path in ("/events/dlq", f"/events/dlq/{entry_id}", "/events/dlq/top", "/events/audit"):
        code, text, _ = http("GET", bot.url + path, headers=AUTH)
        assert code == 200, (path, text)
        out.append(text)
    pages = dashboard_pages(bot.url, ["/admin/events", "/admin/events/dlq", f"/admin/events/dlq/{entry_id}"])
    assert entry_id in pages[2]
    out += pages
    # an alert on the DLQ's size, and its "Top DLQ types" posted in the alert's thread
    fill_dlq(pii_bus.r, pii_bus.keys.dlq, 150)
    slack = FakeTransport()
    runner = AlertRunner(pii_bus, slack)
    tick(runner)
    pii_bus.clock.advance(pii_bus.settings.bus_alert_for)
    tick(runner)
    value = buttons(slack.calls[0]["message"])["alert_dlq_top"]
    assert "thread" in run_action("alert_dlq_top", value, manual_runtime(pii_bus), "U0ALICE").text
    runner.deliver()
    assert len(slack.calls) >= 2 and "z***@h***.example" in json.dumps(slack.calls)
    out.append(json.dumps(slack.calls))
    out.append(json.dumps([f for _, f in pii_bus.r.xrange(pii_bus.keys.audit)]))
    out.append(caplog.text)
    assert [leaked(text) for text in out] == [[] for _ in out]


def test_no_search_finds_a_fragment_of_a_raw_value(start_bot, stub, pii_bus):
    entry_id, _ = seed(pii_bus)
    bot = start_bot(pii_bus)
    for i, fragment in enumerate(("zelda", "hyrule-mail", "sk_live", EMAIL)):
        listed = ask(bot, stub, f"dlq list error={fragment}", f"s{i}")
        assert entry_id not in json.dumps(listed), fragment
        code, text, _ = http("GET", bot.url + "/events/dlq?" + urllib.parse.urlencode({"error": fragment}),
                             headers=AUTH)
        assert code == 200 and entry_id not in text, fragment
        page = dashboard_pages(bot.url, ["/admin/events/dlq?" + urllib.parse.urlencode({"error": fragment})])[0]
        assert entry_id not in page, fragment
    assert entry_id in json.dumps(ask(bot, stub, "dlq list error=z***@h***", "masked"))
    assert entry_id in dashboard_pages(bot.url, ["/admin/events/dlq?error=z%2A%2A%2A%40h"])[0]
