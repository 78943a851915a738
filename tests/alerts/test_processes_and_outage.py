"""Two bot processes on one Redis post each transition once; a restart posts nothing new;
Redis going away is itself a critical alert, posted without Redis, resolved when it is back."""
from __future__ import annotations

import pytest

from bot.alerts.outage import RedisOutage
from bot.alerts.runner import AlertRunner
from bot.bus import Bus
from bot.connection import connect
from tests.alerts.helpers import FakeTransport, drain_dlq, fill_dlq, tick
from tests.conftest import FakeClock
from tests.e2e.blocks import buttons
from tests.redis_server import RedisServer, require_binary

ON_CLUSTER = True  # also on a 3-primary Redis Cluster: default names (three slots) and hash-tagged


def twin(bus: Bus) -> Bus:
    """A second process: its own Bus object (and in-process state) over the same Redis."""
    return Bus(bus.r, bus.settings, clock=bus.clock, where=bus.where)


def test_two_processes_post_each_transition_once(alerting, clock):
    slack = FakeTransport()
    a, b = AlertRunner(alerting, slack), AlertRunner(twin(alerting), slack)
    fill_dlq(alerting.r, alerting.keys.dlq, 600)
    for _ in range(4):  # interleaved checks and deliveries, as two schedulers would run them
        a.check()
        b.check()
        b.deliver()
        a.deliver()
        clock.advance(100)
    drain_dlq(alerting.r, alerting.keys.dlq, 0)
    for _ in range(4):
        b.check()
        a.check()
        a.deliver()
        b.deliver()
        clock.advance(100)
    assert [c["op"] for c in slack.calls] == ["post", "update", "post"]
    assert "Resolved" in str(slack.calls[2]["message"])


def test_restart_does_not_repost(alerting, clock):
    slack = FakeTransport()
    fill_dlq(alerting.r, alerting.keys.dlq, 600)
    first = AlertRunner(alerting, slack)
    tick(first)
    clock.advance(300)
    tick(first)
    assert len(slack.calls) == 1
    restarted = AlertRunner(twin(alerting), slack)
    for _ in range(3):
        clock.advance(30)
        tick(restarted)
    assert len(slack.calls) == 1


@pytest.fixture
def own_redis():
    """A redis-server of this test's own: stopping the shared one would break the tests
    that happen to run next."""
    if not require_binary():
        pytest.skip("redis-server not installed")
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.mark.real_redis
def test_redis_down_is_a_critical_alert_resolved_when_it_is_back(own_redis, settings):
    redis_server = own_redis
    clock = FakeClock()
    settings = settings.model_copy(update={"bus_alert_channel": "C0ALERTS"})
    bus = Bus(connect(redis_server.url), settings, clock=clock, where="redis://test")
    slack = FakeTransport()
    runner = AlertRunner(bus, slack)
    tick(runner)
    try:
        redis_server.stop()
        tick(runner)
        clock.advance(299)
        tick(runner)
        assert slack.calls == []
        clock.advance(1)
        tick(runner)
        assert [c["op"] for c in slack.calls] == ["post"]
        root = str(slack.calls[0]["message"])
        assert "Redis — CRITICAL" in root and "unreachable" in root and "redis://test" in root
    finally:
        redis_server.start()
    tick(runner)
    clock.advance(300)
    tick(runner)
    ts = slack.calls[0]["ts"]
    assert slack.ops()[1:] == [("update", ts), ("post", ts)]
    assert "Redis — resolved" in str(slack.calls[1]["message"])
    assert "Resolved after 10m" in str(slack.calls[2]["message"])


def test_the_redis_alert_offers_no_buttons_and_escapes_the_address(settings):
    outage = RedisOutage(settings.model_copy(update={"bus_alert_channel": "C1", "bus_alert_for": 0}), "redis://<host>")
    outage.observe(False, 1_764_000_000_000)
    slack = FakeTransport()
    outage.deliver(slack, 1_764_000_000_000)
    message = slack.calls[0]["message"]
    assert buttons(message) == {} and "redis://&lt;host&gt;" in str(message)
