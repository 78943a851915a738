"""The worker on every backend, a Redis Cluster included (whose client routes each command
itself, so the worker settles and reads without overlapping them). On a cluster every key
the worker's scripts touch shares one hash tag, as docs/eventbus.md asks."""
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
    if backend(request) == "cluster":
        pytest.skip("the worker's scripts need its keys in one slot: one hash tag")
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
