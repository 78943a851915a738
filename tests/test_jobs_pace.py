"""The rate limit of throttled jobs, on a fake clock: no 1-second window may carry more than
110% of the job's rate, also right after Redis comes back from an outage."""
from __future__ import annotations

import bisect

import pytest
import redis
from redis.commands.core import Script

from bot.bus import Bus
from bot.jobs import lease, store
from bot.jobs.pace import Pacer, burst_for
from bot.jobs.runner import run_job
from bot.settings import Settings
from tests.jobs_helpers import copies, new_job, seed_dlq


class FakeTime:
    """A monotonic clock that only moves when something waits on it."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def wait(self, seconds: float) -> bool:
        self.now += max(0.0, seconds)
        return False


def busiest_second(times: list[float], counts: list[int]) -> int:
    """The most entries in any window [t, t+1) of the fake clock (windows starting at a
    move are enough: the count only grows at moves)."""
    order = sorted(zip(times, counts))
    ts = [t for t, _ in order]
    best = 0
    for i, t in enumerate(ts):
        j = bisect.bisect_left(ts, t + 1.0)
        best = max(best, sum(n for _, n in order[i:j]))
    return best


# --- the bucket alone ---------------------------------------------------------------------

def test_steady_taking_holds_the_rate():
    t = FakeTime()
    p = Pacer(1000, burst_for(1000, 100), t, t.wait)
    times = []
    for _ in range(200):  # 20,000 entries in chunks of 100
        p.take(100)
        times.append(t.now)
    assert busiest_second(times, [100] * 200) <= 1100
    assert t.now - 100.0 == pytest.approx(20_000 / 1000 - 0.1, abs=0.01)


def test_a_long_stall_is_not_paid_back_as_a_burst():
    t = FakeTime()
    p = Pacer(1000, burst_for(1000, 100), t, t.wait)
    times = []
    for i in range(100):
        if i == 30:
            t.now += 12.0  # a stall the bucket is not told about
        p.take(100)
        times.append(t.now)
    assert busiest_second(times, [100] * 100) <= 1100


def test_reset_starts_from_an_empty_bucket():
    t = FakeTime()
    p = Pacer(1000, 100, t, t.wait)
    t.now += 5.0
    p.reset()
    before = t.now
    p.take(100)
    assert t.now - before == pytest.approx(0.1)


def test_the_burst_is_at_most_one_chunk_and_a_tenth_of_a_second():
    assert burst_for(1000, 100) == 100
    assert burst_for(1000, 50) == 50
    assert burst_for(5, 1) == 0.5  # a low rate: less than one entry of credit


def test_a_low_rate_holds_too():
    t = FakeTime()
    p = Pacer(5, burst_for(5, 1), t, t.wait)
    times = []
    for _ in range(50):
        p.take(1)
        times.append(t.now)
    assert busiest_second(times, [1] * 50) <= 5


def test_unthrottled_never_waits():
    t = FakeTime()
    p = Pacer(0, 0, t, t.wait)
    for _ in range(10):
        p.take(1000)
    assert t.now == 100.0


# --- a job through an outage --------------------------------------------------------------

class OutageClient:
    """Wraps a client: every call fails with ConnectionError while the fake clock is inside
    the outage, which starts after `after` batch moves and lasts `seconds` of fake time.
    Records (fake time, entries moved) for each batch move."""

    def __init__(self, real: redis.Redis, clock: FakeTime, after: int, seconds: float) -> None:
        self._real, self._clock = real, clock
        self._after, self._seconds = after, seconds
        self.down_from: float | None = None
        self.failed = 0
        self.moves: list[tuple[float, int]] = []

    def _down(self) -> bool:
        if self.down_from is None and len(self.moves) >= self._after:
            self.down_from = self._clock()
        return self.down_from is not None and self._clock() < self.down_from + self._seconds

    def register_script(self, source: str) -> Script:
        return Script(self, source)  # its calls come back through evalsha below

    def evalsha(self, *args):
        if self._down():
            self.failed += 1
            raise redis.ConnectionError("Connection refused (simulated outage)")
        out = self._real.evalsha(*args)
        if isinstance(out, list) and len(out) == 2 and int(out[0]) >= 0:
            self.moves.append((self._clock(), int(out[0])))
        return out

    def __getattr__(self, name: str):
        attr = getattr(self._real, name)
        if not callable(attr) or name in ("get_encoder", "script_load"):
            return attr

        def call(*args, **kwargs):
            if self._down():
                self.failed += 1
                raise redis.ConnectionError("Connection refused (simulated outage)")
            return attr(*args, **kwargs)
        return call


@pytest.mark.parametrize("rate", [1000, 250])
def test_a_throttled_job_never_bursts_after_an_outage(fake_r, rate):
    t = FakeTime()
    client = OutageClient(fake_r, t, after=10, seconds=12.0)
    bus = Bus(client, Settings(_env_file=None, bus_job_lease=3600))  # type: ignore[arg-type]
    seed_dlq(fake_r, bus.keys.dlq, 6000)
    job = new_job(bus, "reprocess", bus.keys.dlq, bus.keys.events, {}, upper="6999-0", rate=rate,
                  batch=500, to_move=6000)
    assert lease.acquire(bus, job.id, "me")
    done = run_job(bus, job.id, "me", clock=t, wait=t.wait)
    assert done is not None and done.status == "COMPLETED" and done.moved == 6000
    assert client.failed > 0 and client.down_from is not None  # the outage did happen
    moved = copies(fake_r, bus.keys.events, job.id, "reprocessedFrom", "reprocessJob")
    assert len(moved) == len(set(moved)) == 6000
    times, counts = [m[0] for m in client.moves], [m[1] for m in client.moves]
    assert busiest_second(times, counts) <= rate * 1.1
    after = [(tm, n) for tm, n in client.moves if tm >= client.down_from + 12.0]
    assert after and busiest_second([a[0] for a in after], [a[1] for a in after]) <= rate * 1.1
    assert store.get(bus, job.id).note == ""
