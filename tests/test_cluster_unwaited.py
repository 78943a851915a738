"""A Redis Cluster with replicas and BUS_WAIT_REPLICAS at 0: a failover of a job's target
shard can lose entries, so start-up logs a warning and `/bus redis` shows it. Not with
BUS_WAIT_REPLICAS=1, and not on a cluster without replicas."""
from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from bot.bus import Bus
from bot.connection import open_bus
from bot.console.render_text import render_reply_text
from bot.render import render_reply
from bot.settings import Settings
from bot.slack import offload
from commands.router import run
from tests.blockcheck import assert_valid_message
from tests.redis_server import RedisCluster, require_binary
from tests.runtime_helpers import manual_runtime

FIX = "BUS_WAIT_REPLICAS=1"


@pytest.fixture(scope="module")
def replicated() -> Iterator[RedisCluster]:
    """3 primaries with a replica each, shared by this module's tests."""
    if not require_binary():
        pytest.skip("needs redis-server")
    setup = RedisCluster(replicas=1)
    try:
        setup.start()
        yield setup
    finally:
        setup.stop()


def opened(url: str, wait: int, caplog: pytest.LogCaptureFixture) -> tuple[Bus, list[str]]:
    """The bus as start-up opens it, and the warnings it logged."""
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="bot.connection"):
        bus = open_bus(Settings(_env_file=None, redis_url=url, bus_wait_replicas=wait, bus_wait_timeout=0.5))
    assert bus.cluster
    return bus, [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def redis_warnings(bus: Bus) -> tuple[list[str], str, str]:
    """`/bus redis`: its warnings, the Slack message's text and the console's."""
    reply = run("redis", manual_runtime(bus), "U1")
    assert reply.template == "redis"
    message = render_reply(reply)
    assert_valid_message(message)
    blocks = " ".join(b.get("text", {}).get("text", "") for b in message["blocks"])
    return reply.context["i"].warnings, blocks, render_reply_text(reply).text


def test_start_up_warns_once_with_replicas_and_no_waiting(replicated, caplog):
    bus, logged = opened(replicated.url, 0, caplog)
    try:
        assert [line for line in logged if FIX in line] == logged and len(logged) == 1
        assert "failover" in logged[0] and "lose" in logged[0] and "docs/redis.md" in logged[0]
    finally:
        bus.r.close()


def test_start_up_is_quiet_with_waiting(replicated, caplog):
    bus, logged = opened(replicated.url, 1, caplog)
    try:
        assert logged == []
    finally:
        bus.r.close()


def test_bus_redis_shows_the_warning_with_replicas_and_no_waiting(replicated, caplog):
    bus, logged = opened(replicated.url, 0, caplog)
    try:
        warnings, slack, console = redis_warnings(bus)
        assert [w for w in warnings if FIX in w] == logged  # the same sentence as the log line
        assert FIX in slack and FIX in console
    finally:
        bus.r.close()


def test_bus_redis_is_quiet_with_waiting(replicated, caplog):
    bus, _ = opened(replicated.url, 1, caplog)
    try:
        warnings, slack, console = redis_warnings(bus)
        assert not [w for w in warnings if FIX in w]
        assert FIX not in slack and FIX not in console
    finally:
        bus.r.close()


def test_no_warning_on_a_cluster_without_replicas(redis_cluster, caplog):
    bus, logged = opened(redis_cluster.url, 0, caplog)
    try:
        assert not [line for line in logged if FIX in line]
        warnings, slack, console = redis_warnings(bus)
        assert not [w for w in warnings if FIX in w]
        assert FIX not in slack and FIX not in console
    finally:
        bus.r.close()


def test_command_workers_leave_the_warning_to_the_serving_process(replicated, caplog, monkeypatch):
    """`busbot serve` starts command worker processes that open their own bus: one warning
    line at start-up, not one more per worker."""
    monkeypatch.setattr(offload, "_worker_rt", None)
    for name in ("BUS_WAIT_REPLICAS", "BUS_ENVIRONMENTS"):
        monkeypatch.delenv(name, raising=False)
    with caplog.at_level(logging.WARNING, logger="bot.connection"):
        offload._start_worker(replicated.url)
    assert offload._worker_rt is not None and offload._worker_rt.bus.cluster
    try:
        assert not [r for r in caplog.records if FIX in r.getMessage()]
    finally:
        offload._worker_rt.bus.r.close()
