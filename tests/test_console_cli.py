"""`python -m bot console` as a user runs it: a subprocess, with and without a Redis."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.bus import Bus
from bot.connection import connect
from bot.connection import embedded as connect_embedded
from bot.demo import seed
from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def console(*args: str, redis_url: str | None = None, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL" and not k.startswith("BUS_")}
    if redis_url:
        env["REDIS_URL"] = redis_url
    return subprocess.run([sys.executable, "-m", "bot", "console", *args], cwd=ROOT, env=env,
                          input=stdin, capture_output=True, text=True, timeout=60)


def test_health_on_the_embedded_demo():
    p = console("-c", "health")
    assert p.returncode == 0, p.stderr
    assert "attached to embedded demo Redis" in p.stderr
    assert p.stdout.startswith("Event bus: critical\n")  # the demo's analytics consumer is stuck
    assert "[CRIT] CRITICAL — DLQ size: " in p.stdout and "Stale group (hyvve-analytics)" in p.stdout
    assert "hyvve-platform" in p.stdout
    assert "Traceback" not in p.stdout + p.stderr


def test_dlq_top_on_the_embedded_demo():
    p = console("-c", "/bus dlq top")
    assert p.returncode == 0, p.stderr
    assert "timeout after <n>ms for <id>" in p.stdout and "crm.contact.created" in p.stdout
    assert "[1] List " in p.stdout and "Post to channel" not in p.stdout


def test_an_unknown_command_exits_1_with_a_sentence():
    p = console("-c", "nonsense")
    assert p.returncode == 1
    assert p.stdout.splitlines()[0] == "[!] `nonsense` is not a busbot command."
    assert len(p.stdout.splitlines()) <= 2 and "Traceback" not in p.stdout + p.stderr


def test_redis_option_attaches_to_a_real_server(redis_server):
    client = connect(redis_server.url)
    client.flushdb()
    seed(Bus(client, Settings(_env_file=None)))
    client.xadd("hyvve:events", {"event": "{}"})  # one more than the demo: proves which Redis answered
    p = console("--redis", redis_server.url, "-c", "health")
    assert p.returncode == 0, p.stderr
    assert f"attached to {redis_server.url}" in p.stderr
    assert "3,601 entries" in p.stdout
    client.flushdb()


@pytest.mark.parametrize("how", ["option", "env"])
def test_an_unreachable_redis_is_one_plain_sentence(how):
    url = "redis://127.0.0.1:1/0"
    p = console("--redis", url, "-c", "health") if how == "option" else console("-c", "health", redis_url=url)
    assert p.returncode == 1
    out = (p.stdout + p.stderr).strip()
    assert out.count("\n") == 0 and "Redis at redis://127.0.0.1:1/0 refused the connection" in out
    assert "Traceback" not in out


def test_piped_session_runs_a_choice_and_quits():
    p = subprocess.run([sys.executable, "-m", "bot"], cwd=ROOT, input="dlq top\n1\nquit\n",
                       env={k: v for k, v in os.environ.items() if k != "REDIS_URL"},
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert "try: health, dlq top" in p.stderr
    assert "bus> dlq top\nDLQ top:" in p.stdout  # piped input is echoed, as a transcript
    assert "bus> 1\nDLQ entries" in p.stdout  # [1] listed the top type


def test_demo_console_lets_a_second_operator_approve(tmp_path):
    """On the demo bus the console user and a second operator may act; `user NAME` switches."""
    out = console(stdin="reprocess type=crm.contact.created\n1\ny\nuser second-operator\n1\ny\n")
    assert out.returncode == 0, out.stderr
    assert "demo operators: console and second-operator" in out.stderr
    assert "console cannot approve their own request" in out.stdout
    assert "Now acting as second-operator." in out.stdout
    assert "Approved by" in out.stdout and "second-operator" in out.stdout.split("Now acting as")[1]


def test_live_flag_starts_demo_traffic():
    p = console("--live", stdin="health\nquit\n")
    assert p.returncode == 0, p.stderr
    assert "the demo bus is live: 5 events/s" in p.stderr and "Event bus:" in p.stdout


def test_live_demo_bus_moves(settings):
    """The console's live demo publishes and consumes: the stream grows and the group reads."""
    import time as _time

    from bot.console.cli import start_live_demo
    bus = Bus(connect_embedded(), settings)
    seed(bus)
    before, handled_before = bus.r.xlen(bus.keys.events), bus.r.xlen(bus.keys.metadata)
    stop = start_live_demo(bus)
    try:
        deadline = _time.monotonic() + 30
        while bus.r.xlen(bus.keys.metadata) <= handled_before or bus.r.xlen(bus.keys.events) <= before + 5:
            assert _time.monotonic() < deadline, "no live traffic within 30 s"
            _time.sleep(0.1)
    finally:
        stop()
    consumers = {c["name"] for c in bus.r.xinfo_consumers(bus.keys.events, bus.keys.group)}
    assert "demo-live" in consumers
