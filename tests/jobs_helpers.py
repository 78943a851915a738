"""Seeding streams and checking the outcome of moves, shared by the job tests and bench/."""
from __future__ import annotations

import json

import redis

from bot.bus import Bus
from bot.jobs import store
from bot.jobs.model import Job

TYPES = ("approval.item.created", "crm.contact.created", "agent.run.completed")


def event(i: int, etype: str, tenant: str = "ws_1") -> str:
    return json.dumps({"id": f"evt_{i}", "type": etype, "source": "platform",
                       "timestamp": "2025-12-05T10:30:00.000Z", "correlationId": f"c{i}",
                       "tenantId": tenant, "version": "1.0", "data": {"n": i}})


def seed_dlq(r: redis.Redis, stream: str, n: int, types=TYPES, chunk: int = 5000) -> None:
    """n DLQ entries with explicit ids 1000+i-0, types round-robin, tenants ws_0/ws_1."""
    for lo in range(0, n, chunk):
        p = r.pipeline(transaction=False)
        for i in range(lo, min(n, lo + chunk)):
            p.xadd(stream, {"event": event(i, types[i % len(types)], f"ws_{i % 2}"),
                            "error": "boom" if i % 5 else "timeout", "movedAt": "2025-12-05T10:31:00Z",
                            "attempts": "3"}, id=f"{1000 + i}-0")
        p.execute()


def seed_events(r: redis.Redis, stream: str, n: int, start_ms: int = 1_000_000,
                types=TYPES, chunk: int = 5000) -> None:
    """n main-stream entries, one per ms from start_ms."""
    for lo in range(0, n, chunk):
        p = r.pipeline(transaction=False)
        for i in range(lo, min(n, lo + chunk)):
            p.xadd(stream, {"event": event(i, types[i % len(types)], f"ws_{i % 2}")},
                   id=f"{start_ms + i}-0")
        p.execute()


def new_job(bus: Bus, kind: str, source: str, target: str, params: dict, upper: str = "+",
            start: str = "-", rate: int = 0, batch: int = 500, to_move: int = 0) -> Job:
    job = Job(id=store.new_job_id(), kind=kind, source=source, target=target, params=params,
              upper=upper, start=start, rate=rate, batch=batch, to_move=to_move, by="U1")
    return store.create(bus, job)


def copies(r: redis.Redis, stream: str, job_id: str, from_field: str, job_field: str,
           start: str = "-") -> list[str]:
    """Source ids of the entries `job_id` wrote into `stream`."""
    out = []
    last = start
    while True:
        rows = r.xrange(stream, last, "+", count=10_000)
        for _, f in rows:
            if f.get(job_field) == job_id:
                out.append(f[from_field])
        if len(rows) < 10_000:
            return out
        last = "(" + rows[-1][0]
