"""One status model: `/bus health` (get_health), `busbot check` and the alert checks judge
the same data alike; check's exit codes 0/1/2/3; stale consumer groups."""
from __future__ import annotations

import argparse
import json

import pytest
import redis

from bot import cli as busbot
from bot.alerts import cli as check_cli
from bot.alerts.checks import measure
from bot.alerts.engine import run_check
from bot.alerts.overview import instant_levels
from bot.bus import Bus
from bot.services.health import get_health
from bot.settings import Settings
from tests.conftest import FakeClock
from tests.redis_server import RedisServer, require_binary

HOUR = 3_600_000


def check(settings: Settings, *argv: str) -> tuple[int, dict]:
    parser = argparse.ArgumentParser(prog="busbot")
    check_cli.add_parser(parser.add_subparsers())
    args = parser.parse_args(["check", "--json", *argv])
    return args.func(settings, args), args


def check_json(settings: Settings, capsys, *argv: str) -> tuple[int, dict]:
    code, _ = check(settings, *argv)
    return code, json.loads(capsys.readouterr().out)


def platform_group(bus: Bus, start: str = "$") -> None:
    bus.r.xgroup_create(bus.keys.events, bus.settings.bus_group, id=start, mkstream=True)


# --- health and check agree ---------------------------------------------------------------

def test_health_and_check_give_the_same_status_for_the_same_data(real_r, redis_server, settings, capsys):
    """150 DLQ entries that all arrived in the last hour and slow handlers: the DLQ size alone
    is a warning, failed/hr makes it critical. `health` used to say warning here."""
    bus = Bus(real_r, settings)
    platform_group(bus)
    for n in range(150):
        real_r.xadd(bus.keys.dlq, {"event": json.dumps({"id": f"d{n}"}), "error": "boom"})
    for n in range(20):
        real_r.xadd(bus.keys.metadata, {"eventId": f"e{n}", "status": "completed", "durationMs": "6500"})
    h = get_health(bus)
    code, out = check_json(settings, capsys, "--redis", redis_server.url)
    by_rule = {c["rule"]: c["level"] for c in out["checks"]}
    assert h.status == out["status"] == "critical" and code == 2
    assert {c.rule: c.level for c in h.checks} == by_rule
    assert (by_rule["dlq_size"], by_rule["failed_per_hour"], by_rule["p99"]) == ("warning", "critical", "warning")
    alerts = {rule.id: level for rule, _, level in instant_levels(bus, measure(bus))}
    assert alerts == {k: v for k, v in by_rule.items() if k in alerts}
    assert {"dlq_size", "failed_per_hour", "p99", f"lag:{settings.bus_group}"} <= set(alerts)
    assert any(r.startswith("Failed events/hr: 150 events/hr") for r in h.reasons)


def test_a_missing_main_stream_is_critical_not_healthy(real_r, redis_server, settings, capsys):
    code, out = check_json(settings, capsys, "--redis", redis_server.url)
    assert code == 2 and out["status"] == "critical"
    [stream] = [c for c in out["checks"] if c["rule"] == "stream"]
    assert stream["level"] == "critical" and stream["value"] == "missing"
    assert get_health(Bus(real_r, settings)).status == "critical"


# --- check's exit codes ---------------------------------------------------------------------

def test_check_exit_codes_ok_warning_critical(real_r, redis_server, settings, capsys):
    bus = Bus(real_r, settings)
    platform_group(bus)
    assert check_json(settings, capsys, "--redis", redis_server.url)[0] == 0
    for n in range(settings.bus_dlq_warn + 1):  # old arrivals: the DLQ size alone counts
        real_r.xadd(bus.keys.dlq, {"event": "{}", "error": "boom"}, id=f"{1_000_000 + n}-0")
    assert check_json(settings, capsys, "--redis", redis_server.url)[0] == 1
    for n in range(settings.bus_dlq_crit):
        real_r.xadd(bus.keys.dlq, {"event": "{}", "error": "boom"}, id=f"{2_000_000 + n}-0")
    assert check_json(settings, capsys, "--redis", redis_server.url)[0] == 2


def test_check_without_a_redis_is_unknown(capsys):
    code, out = check_json(Settings(_env_file=None), capsys)
    assert code == 3 and out["status"] == "unknown" and "REDIS_URL" in out["checks"][0]["value"]


def test_check_of_an_unreachable_redis_is_unknown(capsys):
    code, out = check_json(Settings(_env_file=None), capsys, "--redis", "redis://127.0.0.1:1/0")
    assert code == 3 and out["status"] == "unknown"


@pytest.fixture
def password_server():
    if not require_binary():
        pytest.skip("redis-server not installed")
    server = RedisServer().start()
    redis.Redis(port=server.port).config_set("requirepass", "right-secret")
    yield server
    server.stop()


def test_check_with_a_wrong_password_is_unknown(password_server, capsys):
    url = f"redis://:wrong-secret@127.0.0.1:{password_server.port}/0"
    code, out = check_json(Settings(_env_file=None), capsys, "--redis", url)
    assert code == 3 and out["status"] == "unknown"
    assert "credentials" in out["checks"][0]["value"] and "wrong-secret" not in json.dumps(out)


def test_check_with_a_bad_setting_is_unknown(monkeypatch, capsys):
    monkeypatch.setenv("BUS_DLQ_WARN", "lots")
    assert busbot.main(["check", "--redis", "redis://127.0.0.1:1/0"]) == 3
    assert "BUS_DLQ_WARN" in capsys.readouterr().err.upper()


def test_check_with_a_bad_redis_option_is_unknown(capsys):
    assert busbot.main(["check", "--redis", "http://example.com"]) == 3


# --- stale groups ---------------------------------------------------------------------------

NOW = 1_764_000_000_000


@pytest.fixture
def stale(bus) -> Bus:
    bus.clock = FakeClock(NOW)
    return bus


def test_a_group_with_an_old_pending_entry_is_stale_though_its_counts_look_fine(stale):
    """Last delivery 10 h ago, an 11 h old entry still pending, no lag: critical."""
    r, k = stale.r, stale.keys
    r.xadd(k.events, {"event": "{}"}, id=f"{NOW - 11 * HOUR}-0")
    r.xadd(k.events, {"event": "{}"}, id=f"{NOW - 10 * HOUR}-0")
    r.xgroup_create(k.events, "g", id="0")
    r.xreadgroup("g", "host-a", {k.events: ">"}, count=10)
    r.xack(k.events, "g", f"{NOW - 10 * HOUR}-0")
    h = get_health(stale)
    [g] = h.groups
    assert (g.lag, g.pending) == (0, 1)
    idle = h.check("idle:g")
    assert idle.level == "critical" and idle.value == 11 * 3600 and idle.text == "11h"
    assert g.level == "critical" and h.status == "critical"
    assert f"{NOW - 11 * HOUR}-0" in idle.note


def test_a_group_that_stopped_reading_while_the_stream_grows_is_stale(stale):
    r, k = stale.r, stale.keys
    r.xadd(k.events, {"event": "{}"}, id=f"{NOW - 10 * HOUR}-0")
    r.xgroup_create(k.events, "g", id="0")
    r.xreadgroup("g", "host-a", {k.events: ">"}, count=10)
    r.xack(k.events, "g", f"{NOW - 10 * HOUR}-0")
    r.xadd(k.events, {"event": "{}"}, id=f"{NOW - 50 * 60_000}-0")  # waiting 50 min: a warning
    assert get_health(stale).check("idle:g").level == "warning"
    r.xadd(k.events, {"event": "{}"}, id=f"{NOW - 1000}-0")  # newer ones change nothing
    assert get_health(stale).check("idle:g").value == 50 * 60


def test_a_group_that_keeps_up_is_not_stale_however_old_its_last_delivery(stale):
    r, k = stale.r, stale.keys
    r.xadd(k.events, {"event": "{}"}, id=f"{NOW - 10 * HOUR}-0")
    r.xgroup_create(k.events, "g", id="0")
    r.xreadgroup("g", "host-a", {k.events: ">"}, count=10)
    r.xack(k.events, "g", f"{NOW - 10 * HOUR}-0")
    r.xadd(k.events, {"event": "{}"}, id=f"{NOW - 30_000}-0")  # arrived 30 s ago
    h = get_health(stale)
    assert h.check("idle:g").level == "healthy" and h.status == "healthy"


def test_idle_thresholds_come_from_settings(stale):
    stale.settings = stale.settings.model_copy(update={"bus_idle_warn_seconds": 60,
                                                       "bus_idle_crit_seconds": 120})
    r, k = stale.r, stale.keys
    r.xgroup_create(k.events, "g", id="$", mkstream=True)
    r.xadd(k.events, {"event": "{}"}, id=f"{NOW - 90_000}-0")
    c = get_health(stale).check("idle:g")
    assert (c.level, c.warn, c.crit) == ("warning", 60, 120)


def test_a_stale_group_raises_an_alert(stale):
    stale.settings = stale.settings.model_copy(update={"bus_alert_channel": "C0ALERTS"})
    r, k = stale.r, stale.keys
    r.xadd(k.events, {"event": "{}"}, id=f"{NOW - 11 * HOUR}-0")
    r.xgroup_create(k.events, "g", id="0")
    r.xreadgroup("g", "host-a", {k.events: ">"}, count=10)
    run_check(stale)
    stale.clock.advance(stale.settings.bus_alert_for)
    results = {res.rule.id: res for res in run_check(stale)}
    idle = results["idle:g"]
    assert idle.state.firing and idle.state.level == "critical"
    assert idle.rule.title == "Stale group (g)"


def test_the_stale_alert_of_a_deleted_group_resolves(stale):
    stale.settings = stale.settings.model_copy(update={"bus_alert_channel": "C0ALERTS"})
    r, k = stale.r, stale.keys
    r.xadd(k.events, {"event": "{}"}, id=f"{NOW - 11 * HOUR}-0")
    r.xgroup_create(k.events, "g", id="0")
    r.xreadgroup("g", "host-a", {k.events: ">"}, count=10)
    run_check(stale)
    stale.clock.advance(stale.settings.bus_alert_for)
    assert {res.rule.id: res for res in run_check(stale)}["idle:g"].state.firing
    r.xgroup_destroy(k.events, "g")
    run_check(stale)
    stale.clock.advance(stale.settings.bus_alert_for)
    results = {res.rule.id: res for res in run_check(stale)}
    assert not results["idle:g"].state.firing  # resolved, not firing forever
    assert "idle:g" not in {res.rule.id for res in run_check(stale)}  # and then forgotten
