"""Redis unreachable: a clear sentence in Slack, 503 on /events/health, busbot_redis_up 0."""
from __future__ import annotations

import json

import pytest

from bot.bus import Bus
from bot.connection import connect
from tests.e2e.blocks import valid_message
from tests.redis_server import free_port


@pytest.fixture
def dead_bus(settings) -> Bus:
    url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    return Bus(connect(url), settings, where=url)


@pytest.fixture
def dead_bot(start_bot, dead_bus):
    return start_bot(dead_bus)


def test_command_answers_with_a_sentence(dead_bot, stub, dead_bus):
    from tests.e2e.slack_stub import command_body

    assert dead_bot.post_signed(command_body("health", stub.response_url("down")))[0] == 200
    msg = stub.wait_for("/response/down")[0]
    valid_message(msg)
    assert msg["text"] == f"Redis at {dead_bus.where} refused the connection: nothing listens on that port."
    assert "Traceback" not in json.dumps(msg) and "Error" not in msg["text"]


def test_health_endpoint_is_503(dead_bot, dead_bus):
    status, text, _ = dead_bot.get("/events/health")
    assert status == 503
    assert json.loads(text) == {
        "status": "unreachable",
        "error": f"Redis at {dead_bus.where} refused the connection: nothing listens on that port."}


def test_metrics_say_redis_is_down(dead_bot):
    status, text, _ = dead_bot.get("/metrics")
    assert status == 200  # the scrape works; the sample says Redis does not
    assert "busbot_redis_up 0.0" in text
    assert "redis_stream_length{" not in text


def test_health_follows_a_real_outage_and_recovery(start_bot, redis_server, settings):
    bot = start_bot(Bus(connect(redis_server.url), settings))
    assert bot.get("/events/health")[0] == 200
    redis_server.stop()
    try:
        assert bot.get("/events/health")[0] == 503
    finally:
        redis_server.start()
    assert bot.get("/events/health")[0] == 200
