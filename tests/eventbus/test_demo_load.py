"""Demo traffic: the --fail grammar, failing handlers and realistic events."""
from __future__ import annotations

import json

import pytest

from bot.demo.catalog import EVENT_TYPES
from bot.eventbus.demo_load import (DemoHandlerError, FailingHandler, TrafficPublisher,
                                    parse_fail_spec)
from bot.eventbus.handlers import Message


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
