"""`/healthz`, `/readyz`, and health endpoints that can never starve Slack's acks."""
from __future__ import annotations

import json
import os
import signal
import threading
import time

import pytest
from flask import Flask

from bot.bus import Bus
from bot.connection import connect
from bot.web import probes
from bot.web.probes import Busy, ProbeLimiter
from tests.e2e.slack_stub import command_body, http
from tests.redis_server import RedisServer, free_port, require_binary


def test_healthz_is_200_without_touching_redis(start_bot, settings):
    dead = Bus(connect(f"redis://127.0.0.1:{free_port()}/0"), settings, where="nowhere")
    status, text, _ = start_bot(dead).get("/healthz")
    assert (status, json.loads(text)) == (200, {"status": "alive"})


def test_readyz_is_200_when_redis_answers_and_slack_accepted_the_token(bot):
    status, text, _ = bot.get("/readyz")
    assert (status, json.loads(text)) == (200, {"status": "ready"})


def test_readyz_is_503_with_a_sentence_when_redis_is_down(start_bot, settings):
    url = f"redis://127.0.0.1:{free_port()}/0"
    status, text, _ = start_bot(Bus(connect(url), settings, where=url)).get("/readyz")
    assert status == 503
    assert json.loads(text) == {"status": "not ready",
                                "error": f"Redis at {url} refused the connection: nothing listens on that port."}


def test_readyz_is_503_until_slack_accepts_the_token(bus):
    from bot.web.app import create_app
    from bot.web.slack import SlackGate

    client = create_app(bus, SlackGate("secret")).test_client()
    resp = client.get("/readyz")
    assert resp.status_code == 503 and "Slack" in resp.get_json()["error"]
    signed = client.post("/slack/events", data="x", headers={"X-Slack-Request-Timestamp": "1"})
    assert signed.status_code == 401  # unsigned: refused before the gate is even asked


def test_the_limiter_refuses_without_waiting():
    limiter = ProbeLimiter(2)
    with limiter.slot(), limiter.slot(), pytest.raises(Busy), limiter.slot():
        pass
    with limiter.slot():  # the slots came back
        pass


def test_a_probe_beyond_the_limit_is_503_with_retry_after(bus):
    app = Flask("probes")
    app.register_blueprint(probes.blueprint(bus, limiter=ProbeLimiter(0)))  # every slot taken
    client = app.test_client()
    for path in ("/events/health", "/metrics", "/readyz"):
        resp = client.get(path)
        assert resp.status_code == 503 and resp.headers["Retry-After"] == "1", path
        assert resp.get_json()["error"].endswith("retry in a second.")
    assert client.get("/healthz").status_code == 200  # never limited: it reads nothing


@pytest.fixture
def own_redis():
    """A redis-server of this test's own, since it gets frozen (SIGSTOP)."""
    if not require_binary():
        pytest.skip("redis-server not installed (CI installs it)")
    server = RedisServer().start()
    yield server
    os.kill(server.proc.pid, signal.SIGCONT)
    server.stop()


def test_acks_stay_fast_while_a_frozen_redis_holds_health_checks(start_bot, stub, settings, own_redis):
    """40 clients keep asking /events/health and /metrics of a frozen Redis while signed
    slash commands arrive: every command is acked promptly."""
    bot = start_bot(Bus(connect(own_redis.url), settings, where=own_redis.url, url=own_redis.url))
    assert bot.get("/events/health")[0] == 200
    done = threading.Event()
    answers: list[int] = []

    def hammer(path: str) -> None:
        while not done.is_set():
            try:
                status, _, _ = http("GET", bot.url + path, timeout=30)
            except OSError:
                status = -1
            answers.append(status)
            if status == 503:
                done.wait(0.05)  # a polite client waits a little after a refusal

    clients = [threading.Thread(target=hammer, args=("/events/health" if n % 2 else "/metrics",))
               for n in range(40)]
    os.kill(own_redis.proc.pid, signal.SIGSTOP)
    try:
        for c in clients:
            c.start()
        deadline = time.monotonic() + 10
        while len(answers) < 40 and time.monotonic() < deadline:  # the clients are all busy
            time.sleep(0.01)
        acks = []
        for n in range(60):
            body = command_body("help", stub.response_url(f"ack{n}"))
            t0 = time.perf_counter()
            status, text = bot.post_signed(body)
            acks.append(time.perf_counter() - t0)
            assert (status, text) == (200, "")
    finally:
        done.set()
        os.kill(own_redis.proc.pid, signal.SIGCONT)
        for c in clients:
            c.join(30)
    acks.sort()
    p99 = acks[int(len(acks) * 0.99) - 1]
    assert p99 < 0.5, f"ack p99 {p99 * 1000:.0f} ms; slowest {acks[-1] * 1000:.0f} ms"
    assert 503 in answers  # the limiter did refuse some
