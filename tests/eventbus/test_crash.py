"""Worker processes: SIGTERM drains, SIGKILL loses nothing (real redis-server only)."""
from __future__ import annotations

import signal
import time

import pytest

from bot.bus import Bus
from bot.eventbus.worker import ensure_group
from tests.eventbus.chaos import GROUP, run_chaos, workers
from tests.eventbus.helpers import publish
from tests.eventbus.proc_handlers import HANDLED

pytestmark = pytest.mark.real_redis


def test_sigterm_finishes_the_batch_in_hand_and_exits_0(real_r, redis_server, settings):
    bus = Bus(real_r, settings)
    ensure_group(bus, GROUP, "0")
    publish(bus, "crm.contact.created", n=40, fate="ok")
    with workers() as start:
        p = start(redis_server.url, batch=10, sleep=0.05)
        deadline = time.monotonic() + 30
        while real_r.scard(HANDLED) == 0:
            assert time.monotonic() < deadline and p.poll() is None
            time.sleep(0.005)
        p.send_signal(signal.SIGTERM)
        assert p.wait(30) == 0
    [g] = real_r.xinfo_groups(bus.keys.events)
    handled = real_r.scard(HANDLED)
    assert g["pending"] == 0, "in-flight entries left unacknowledged"
    assert handled == g["entries-read"] == real_r.xlen(bus.keys.metadata)
    assert handled % 10 == 0 and handled < 40, "it kept reading after SIGTERM"


def test_sigkill_at_random_points_loses_nothing_and_dead_letters_once(redis_server):
    result = run_chaos(redis_server.url, n=2000, kills=3, seed=1)
    assert result.handled > 0 and result.dead_lettered >= 2 * 2  # malformed + bad ones
    print(result)


@pytest.mark.chaos
@pytest.mark.timeout(900)
@pytest.mark.parametrize("seed", [11, 12, 13])
def test_chaos_10k_events_many_kills(redis_server, seed):
    """The full version: `python -m pytest -m chaos -s` (about a minute per seed)."""
    print(run_chaos(redis_server.url, n=10_000, kills=20, seed=seed))
