"""The crash test: worker processes SIGKILLed at random points while they work through a
stream, then one left to finish. Afterwards every entry must be either handled and
acknowledged or in the DLQ, exactly once."""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis

from bot.bus import Bus
from bot.eventbus.event import new_event
from bot.eventbus.publisher import Publisher
from bot.eventbus.worker import ensure_group
from bot.settings import Settings
from tests.eventbus.proc_handlers import HANDLED, RUNS

ROOT = Path(__file__).resolve().parents[2]
GROUP = "chaos"
MALFORMED = ({"payload": "{}"}, {"event": "{truncated"})  # no `event` field; bad JSON


def start_worker(url: str, consumer: str = "chaos-host", batch: int = 100,
                 sleep: float = 0.0003, extra_env: dict | None = None) -> subprocess.Popen:
    env = {**os.environ, "REDIS_URL": url, "BUS_RETRY_DELAYS": "0.05,0.1",
           "BUS_CLAIM_IDLE": "1", "BUS_HANDLER_TIMEOUT": "0.5",
           "BUS_METADATA_MAXLEN": "10000000", "TEST_HANDLER_SLEEP": str(sleep),
           **(extra_env or {})}
    # not a pipe: a full pipe would block the worker's logging
    log = tempfile.TemporaryFile()  # noqa: SIM115
    p = subprocess.Popen(
        [sys.executable, "-m", "bot", "worker", "--group", GROUP, "--consumer", consumer,
         "--handlers", "tests.eventbus.proc_handlers", "--batch", str(batch)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log)
    p.log = log
    return p


def log_tail(p: subprocess.Popen) -> str:
    p.log.seek(0)
    return p.log.read().decode(errors="replace")[-2000:]


@dataclass
class ChaosResult:
    entries: int
    kills: int
    handled: int
    dead_lettered: int
    dead_lettered_after_crashes: int  # good events given up on: killed on every delivery
    handled_more_than_once: int  # at-least-once: handled, killed before the ack

    def __str__(self) -> str:
        return (f"{self.entries} entries, {self.kills} SIGKILLs: {self.handled} handled, "
                f"{self.dead_lettered} dead-lettered ({self.dead_lettered_after_crashes} "
                f"after repeated kills), {self.handled_more_than_once} handler runs repeated "
                "after a kill; none lost, none dead-lettered twice")


def publish_workload(bus: Bus, n: int, rng: random.Random) -> dict[str, str]:
    """n events (90% ok, 7% flaky, 3% bad) with malformed entries among them; returns
    entry id -> fate (`malformed` for those)."""
    fates = rng.choices(["ok", "flaky", "bad"], [90, 7, 3], k=n)
    pub, out = Publisher(bus), {}
    for start in range(0, n, 1000):
        chunk = fates[start:start + 1000]
        ids = pub.publish_many(new_event("crm.contact.created", {"n": start + i, "fate": f},
                                         tenant="ws_acme", user="usr_1")
                               for i, f in enumerate(chunk))
        out.update(zip(ids, chunk))
        for fields in MALFORMED:
            out[bus.r.xadd(bus.keys.events, fields)] = "malformed"
    return out


def settled(bus: Bus) -> bool:
    [g] = [g for g in bus.r.xinfo_groups(bus.keys.events) if g["name"] == GROUP]
    return (g["pending"] == 0 and g.get("lag") == 0
            and bus.r.zcard(bus.keys.retry_schedule(GROUP)) == 0)


def run_chaos(url: str, n: int, kills: int, seed: int) -> ChaosResult:
    rng = random.Random(seed)
    r = redis.Redis.from_url(url, decode_responses=True)
    r.flushdb()
    bus = Bus(r, Settings(_env_file=None))
    ensure_group(bus, GROUP, "0")
    fates = publish_workload(bus, n, rng)
    with workers() as start:
        for _ in range(kills):
            p = start(url)
            seen = r.xlen(bus.keys.metadata)
            deadline = time.monotonic() + 30
            while r.xlen(bus.keys.metadata) == seen and time.monotonic() < deadline:
                time.sleep(0.01)  # until it is working, then kill it at a random point
            time.sleep(rng.uniform(0, 0.4))
            p.send_signal(signal.SIGKILL)
            p.wait()
        p = start(url)
        deadline = time.monotonic() + 120
        while not settled(bus):
            assert p.poll() is None, log_tail(p)
            assert time.monotonic() < deadline, "the stream did not settle in 120 s"
            time.sleep(0.1)
        p.send_signal(signal.SIGTERM)
        assert p.wait(30) == 0
    return verify(bus, fates, kills)


@contextmanager
def workers():
    """`start(url, ...)` worker processes; any still running at the end is killed, so a
    failed test leaves no worker behind."""
    procs: list[subprocess.Popen] = []

    def start(*args, **kw) -> subprocess.Popen:
        procs.append(start_worker(*args, **kw))
        return procs[-1]
    try:
        yield start
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()


def verify(bus: Bus, fates: dict[str, str], kills: int) -> ChaosResult:
    r = bus.r
    dlq = [f for _, f in r.xrange(bus.keys.dlq)]
    sources = Counter(f["sourceId"] for f in dlq)
    twice = [s for s, c in sources.items() if c > 1]
    assert not twice, f"dead-lettered twice: {twice[:5]}"
    handled = r.smembers(HANDLED)
    by_entry = _event_ids(r, bus.keys.events)
    lost = [e for e in fates if e not in sources and by_entry[e] not in handled]
    assert not lost, f"{len(lost)} entries neither handled nor dead-lettered: {lost[:5]}"
    errors = {f["sourceId"]: f["error"] for f in dlq}
    for eid, fate in fates.items():
        if fate in ("bad", "malformed"):
            assert eid in sources and by_entry[eid] not in handled, (eid, fate)
        elif eid in sources:  # a good event dead-lettered: only after kills on every try
            assert errors[eid].startswith("delivered "), (eid, errors[eid])
    meta = Counter(m["entryId"] for _, m in r.xrange(bus.keys.metadata))
    assert set(meta) == set(fates) and max(meta.values()) == 1, "metadata not one per entry"
    assert r.xpending(bus.keys.events, GROUP)["pending"] == 0
    good_dead = sum(1 for e in sources if fates[e] in ("ok", "flaky"))
    return ChaosResult(len(fates), kills, len(handled), len(sources), good_dead,
                       int(r.get(RUNS) or 0) - len(handled))


def _event_ids(r, stream: str) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for eid, f in r.xrange(stream):
        try:
            out[eid] = json.loads(f["event"])["id"]
        except (ValueError, KeyError, TypeError):
            out[eid] = None
    return out
