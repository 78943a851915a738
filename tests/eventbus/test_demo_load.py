"""Demo traffic: the --fail grammar, failing handlers and realistic events."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.demo.catalog import EVENT_TYPES
from bot.eventbus.demo_load import DemoHandlerError, FailingHandler, TrafficPublisher, parse_fail_spec
from bot.eventbus.handlers import Message

ROOT = Path(__file__).resolve().parents[2]


def test_fail_spec():
    assert parse_fail_spec("crm.contact.created=0.3, approval.*=1") == {
        "crm.contact.created": 0.3, "approval.*": 1.0}
    assert parse_fail_spec("") == {}
    for bad in ("crm=1.5", "crm", "=0.1", "crm=x"):
        with pytest.raises(ValueError, match="TYPE=RATE"):
            parse_fail_spec(bad)


def _msg(etype: str, i: int, attempt: int = 1) -> Message:
    return Message({"id": f"e{i}", "type": etype, "data": {"approvalId": "ap_1"}}, etype,
                   f"1-{i}", attempt)


def test_handlers_fail_at_the_given_rate_with_catalogue_errors():
    h = FailingHandler({"approval.*": 0.3}, time_scale=0)
    errors = []
    for i in range(2000):
        try:
            h(_msg("approval.item.created", i))
        except DemoHandlerError as exc:
            errors.append(str(exc))
    assert 0.25 < len(errors) / 2000 < 0.35
    assert any("timeout after" in e for e in errors)
    for i in range(200):
        h(_msg("crm.contact.created", i))  # no rate: never fails


def test_traffic_is_realistic_events(bus):
    t = TrafficPublisher(bus, rate=1000, seed=7)
    t.run(duration=0.05)
    entries = bus.r.xrange(bus.keys.events)
    assert len(entries) == t.published > 0
    for _, fields in entries:
        e = json.loads(fields["event"])
        assert e["type"] in EVENT_TYPES and e["tenantId"].startswith("ws_")


def test_background_demo_publishes_and_handles(bus):
    import time

    from bot.eventbus.demo_load import start_in_background
    from bot.eventbus.worker import WorkerConfig

    cfg = WorkerConfig("demo", "demo-host", start_id="0", block_ms=50)
    stop = start_in_background(bus, cfg, rate=500, rates={"*": 0.5}, time_scale=0, seed=3)
    deadline = time.monotonic() + 20
    try:
        while bus.r.xlen(bus.keys.metadata) < 20:  # until the worker thread handled some
            assert time.monotonic() < deadline, "the demo worker handled nothing in 20 s"
            time.sleep(0.05)
    finally:
        stop()
    assert bus.r.zcard(bus.keys.retry_schedule("demo")) > 0  # failures wait for a retry


# --- busbot demo-load: asks before writing into a shared stream, cleans up after -----------

def test_demo_traffic_is_marked_as_demo(bus):
    from bot.eventbus.demo_load import DEMO_SOURCE
    TrafficPublisher(bus, rate=1000, seed=1).run(duration=0.02)
    sources = {json.loads(f["event"])["source"] for _, f in bus.r.xrange(bus.keys.events)}
    assert sources == {DEMO_SOURCE} == {"busbot-demo"}


def test_other_readers_and_the_refusal_name_the_groups(bus):
    from bot.eventbus.demo_load import other_readers, refusal
    assert other_readers(bus, "busbot-demo") == []  # no stream yet
    bus.r.xgroup_create(bus.keys.events, "hyvve-platform", id="$", mkstream=True)
    bus.r.xgroup_create(bus.keys.events, "busbot-demo", id="$")
    readers = other_readers(bus, "busbot-demo")
    assert readers == ["hyvve-platform"]
    text = refusal(bus, readers, 200)
    assert "`hyvve-platform` reads" in text and "`hyvve:events`" in text and "--yes" in text
    assert text.count(".") >= 1 and "\n" not in text


def test_clean_up_deletes_the_group_it_created(bus):
    from bot.eventbus.demo_load import clean_up
    from bot.eventbus.worker import ensure_group
    assert ensure_group(bus, "busbot-demo", "0")
    bus.r.xadd(bus.keys.events, {"event": "{}"})
    bus.r.xreadgroup("busbot-demo", "host", {bus.keys.events: ">"})
    bus.r.zadd(bus.keys.retry_schedule("busbot-demo"), {"1-0": 1})
    assert "deleted" in clean_up(bus, "busbot-demo", "host", created=True)
    assert bus.r.xinfo_groups(bus.keys.events) == []
    assert not bus.r.exists(bus.keys.retry_schedule("busbot-demo"))


def test_clean_up_acks_its_pending_entries_in_a_group_it_found(bus, monkeypatch):
    import bot.eventbus.demo_load as demo_load
    monkeypatch.setattr(demo_load, "ACK_BATCH", 3)  # several rounds
    bus.r.xgroup_create(bus.keys.events, "mine", id="0", mkstream=True)
    for _ in range(8):
        bus.r.xadd(bus.keys.events, {"event": "{}"})
    bus.r.xreadgroup("mine", "host", {bus.keys.events: ">"}, count=7)
    bus.r.xreadgroup("mine", "other-host", {bus.keys.events: ">"}, count=1)
    text = demo_load.clean_up(bus, "mine", "host", created=False)
    assert "acknowledged its 7 pending entries" in text
    assert bus.r.xpending(bus.keys.events, "mine")["pending"] == 1  # another consumer's: kept
    assert [c["name"] for c in bus.r.xinfo_consumers(bus.keys.events, "mine")] == ["other-host"]


def _demo_load(url: str, *argv: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "REDIS_URL": url}
    return subprocess.run([sys.executable, "-m", "bot", "demo-load", "--rate", "200", "--time-scale", "0",
                           "--start-id", "0", *argv], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


@pytest.mark.real_redis
def test_demo_load_refuses_a_stream_the_platform_reads(real_r, redis_server, settings):
    real_r.xgroup_create(settings.bus_events_stream, "hyvve-platform", id="$", mkstream=True)
    done = _demo_load(redis_server.url, "--duration", "1")
    assert done.returncode == 2
    assert "hyvve-platform" in done.stderr and "--yes" in done.stderr and "Traceback" not in done.stderr
    assert real_r.xlen(settings.bus_events_stream) == 0  # nothing written
    assert [g["name"] for g in real_r.xinfo_groups(settings.bus_events_stream)] == ["hyvve-platform"]


@pytest.mark.real_redis
def test_demo_load_with_yes_says_what_it_does_and_leaves_no_group_behind(real_r, redis_server, settings):
    stream = settings.bus_events_stream
    real_r.xgroup_create(stream, "hyvve-platform", id="$", mkstream=True)
    done = _demo_load(redis_server.url, "--duration", "1", "--yes", "--fail", "*=0.5",
                      "--retry-delays", "600")  # failed attempts stay pending until the end
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    first = next(i for i, ln in enumerate(lines) if ln.startswith("demo-load: publishing about 200"))
    assert "hyvve-platform" in lines[first] and "deleted" in lines[first]
    assert any("deleted the group `busbot-demo` it created" in ln for ln in lines[first + 1:])
    assert [g["name"] for g in real_r.xinfo_groups(stream)] == ["hyvve-platform"]
    sources = {json.loads(f["event"])["source"] for _, f in real_r.xrange(stream)}
    assert real_r.xlen(stream) > 0 and sources == {"busbot-demo"}


@pytest.mark.real_redis
def test_demo_load_in_a_group_it_found_acks_what_it_holds(real_r, redis_server, settings):
    stream = settings.bus_events_stream
    real_r.xgroup_create(stream, "mine", id="0", mkstream=True)
    done = _demo_load(redis_server.url, "--group", "mine", "--duration", "1", "--fail", "*=1",
                      "--retry-delays", "600")
    assert done.returncode == 0, done.stderr
    assert "acknowledged its" in done.stderr
    [g] = real_r.xinfo_groups(stream)
    assert g["name"] == "mine" and g["pending"] == 0 and g["entries-read"] > 0


def test_demo_traffic_survives_an_outage_without_a_burst(fake_r, settings, monkeypatch):
    """Redis unreachable for 12 s (of a fake clock) mid-run: the publisher thread goes on,
    and afterwards publishes at its rate rather than the 12 s it missed at once."""
    import redis

    import bot.eventbus.demo_load as demo_load
    from bot.bus import Bus

    bus = Bus(fake_r, settings)
    now = [0.0]
    batches: list[int] = []
    failures = [2]

    def tick() -> float:  # each look at the clock is 0.1 s later: one publisher turn
        now[0] += 0.1
        return now[0]

    class FlakyPublisher:
        def __init__(self, bus):
            pass

        def publish_many(self, events):
            events = list(events)
            if failures[0] and len(batches) == 3:
                failures[0] -= 1
                now[0] += 6.0
                raise redis.ConnectionError("Connection refused (simulated outage)")
            batches.append(len(events))
            return ["0-0"] * len(events)

    monkeypatch.setattr(demo_load, "Publisher", FlakyPublisher)
    t = TrafficPublisher(bus, rate=100, seed=1, monotonic=tick)
    t.run(duration=1.5)
    assert failures[0] == 0 and len(batches) > 5  # it went on after the outage
    assert max(batches[3:]) <= 100 * 0.1 + 1, batches  # no burst of the 12 s it missed
