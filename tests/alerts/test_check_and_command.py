"""`busbot check` (exit 0/1/2/3) and `/bus alerts` (rendered, valid Block Kit)."""
from __future__ import annotations

import argparse
import json

import pytest

from bot.alerts import cli as check_cli
from bot.alerts.engine import run_check
from bot.cli import SUBCOMMAND_MODULES
from bot.render import render_reply
from bot.settings import Settings
from commands.router import run
from tests.alerts.helpers import fill_dlq
from tests.conftest import FakeClock
from tests.e2e.blocks import valid_message
from tests.runtime_helpers import manual_runtime


def main(argv: list[str]) -> int:
    """`busbot check ...` through its own parser (bot/cli.py lists the module)."""
    parser = argparse.ArgumentParser(prog="busbot")
    check_cli.add_parser(parser.add_subparsers())
    args = parser.parse_args(argv)
    return args.func(Settings(_env_file=None), args)


def test_check_is_a_busbot_subcommand():
    assert "bot.alerts.cli" in SUBCOMMAND_MODULES


def check(url, capsys, *extra) -> tuple[int, dict]:
    code = main(["check", "--redis", url, "--json", *extra])
    return code, json.loads(capsys.readouterr().out)


def test_busbot_check_exit_codes(real_r, redis_server, capsys, settings):
    real_r.xgroup_create(settings.bus_events_stream, settings.bus_group, id="$", mkstream=True)
    code, out = check(redis_server.url, capsys)
    assert code == 0 and out["status"] == "healthy"
    assert {c["rule"]: c["level"] for c in out["checks"]}["p99"] == "unknown"
    fill_dlq(real_r, settings.bus_dlq_stream, 150)
    assert check(redis_server.url, capsys)[0] == 1
    fill_dlq(real_r, settings.bus_dlq_stream, 400)
    code, out = check(redis_server.url, capsys)
    assert code == 2 and {c["rule"]: c["level"] for c in out["checks"]}["dlq_size"] == "critical"


def test_busbot_check_redis_unreachable_is_unknown(capsys):
    assert main(["check", "--redis", "redis://127.0.0.1:1/0"]) == 3
    assert "UNKNOWN" in capsys.readouterr().out


def test_busbot_check_text_lines(real_r, redis_server, capsys, settings):
    real_r.xgroup_create(settings.bus_events_stream, settings.bus_group, id="$", mkstream=True)
    assert main(["check", "--redis", redis_server.url]) == 0
    out = capsys.readouterr().out
    assert "HEALTHY" in out and "DLQ size: 0 entries (warning > 100, critical > 500)" in out


@pytest.mark.parametrize("firing", [False, True])
def test_bus_alerts_lists_rules_thresholds_and_last_check(bus, firing):
    bus.clock = FakeClock()
    before = render_reply(run("alerts", manual_runtime(bus), "U1"))
    valid_message(before)
    assert "No alert check has run yet" in str(before)
    if firing:
        fill_dlq(bus.r, bus.keys.dlq, 600)
        bus.r.xadd(bus.keys.events, {"event": "{}"})
        bus.r.xgroup_create(bus.keys.events, "g1", id="0")
    run_check(bus)
    bus.clock.advance(bus.settings.bus_alert_for)
    run_check(bus)
    reply = run("alerts", manual_runtime(bus), "U1")
    message = render_reply(reply)
    valid_message(message)
    text = str(message)
    assert "warning > 100 entries · critical > 500 entries" in text and "Last check 0s ago" in text
    if firing:
        assert reply.text == "1 alert firing: DLQ size (critical)"
        assert "firing since" in text and "Consumer lag (g1)" in text
    else:
        assert reply.text == "No alert is firing."
