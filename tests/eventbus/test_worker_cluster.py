"""The worker on every backend, a Redis Cluster included (whose client routes each command
itself, so the worker settles and reads without overlapping them): with one hash tag for
every key, and with the platform's default names in several slots (bot/eventbus/slots.py)."""
from __future__ import annotations

from collections import Counter

import pytest

from bot.bus import Bus
from bot.eventbus.handlers import Handlers
from bot.settings import Settings
from tests.conftest import backend, names
from tests.eventbus.helpers import make_worker, pending, publish

ON_CLUSTER = True


@pytest.fixture
def tagged_bus(r, request) -> Bus:
    prefix = {"bus_prefix": "{hyvve}"} if backend(request) == "cluster-tagged" else {}
    return Bus(r, Settings(_env_file=None, **names(request), **prefix))


def test_the_worker_handles_and_settles_every_batch(tagged_bus):
    bus = tagged_bus
    entries = publish(bus, n=250)
    seen = []
    h = Handlers()
    h.register("*", lambda m: seen.append(m.entry_id))
    w = make_worker(bus, h, claim_every=60, batch=100)
    assert w.poll() == 250
    assert seen == entries and pending(bus) == 0
    assert Counter(m["entryId"] for _, m in bus.r.xrange(bus.keys.metadata)) == Counter(entries)
    w.close()


def test_failures_retry_and_dead_letter_once(tagged_bus):
    from tests.conftest import FakeClock

    bus = tagged_bus
    bus.clock = FakeClock()
    runs = []
    h = Handlers()

    def fails(msg):
        runs.append(msg.attempt)
        raise RuntimeError("crm-sync answered 503")
    h.register("*", fails)
    w = make_worker(bus, h, delays=(1,), attempts=2)
    [entry] = publish(bus)
    w.poll()
    bus.clock.advance(1)
    w.poll()
    assert runs == [1, 2] and pending(bus) == 0
    [(_, dlq)] = bus.r.xrange(bus.keys.dlq)
    assert (dlq["sourceId"], dlq["attempts"], dlq["error"]) == (entry, "2", "crm-sync answered 503")
    assert [m["status"] for _, m in bus.r.xrange(bus.keys.metadata)] == ["failed"]
