"""One read of a job's source, through bot/lua/scan_batch.lua: the entries of the id range
that may match the job's filter, and how far the read went.

The script drops, inside Redis, entries that provably cannot match a `type=` / `types=` /
`tenant=` filter (their event does not contain the value as a JSON string), and for
reprocess and replay returns the `event` field only; whatever it returns is still decided
by `bot.jobs.select.selected`, the preview's own test. A selection by ids, error text or
signature, or a type or tenant that masking rewrites, reads every entry in full, as before.
"""
from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.bus import Bus
from bot.envelope import MALFORMED, NO_TENANT, UNKNOWN
from bot.jobs.model import Job

EVENT_ONLY = frozenset({"reprocess", "replay"})  # kinds that write nothing but the event
_PLACEHOLDERS = frozenset({MALFORMED, UNKNOWN, NO_TENANT})  # matched without any literal text


@dataclass
class Read:
    last: str  # last id examined ("" : nothing left in the range)
    rows: list[tuple[str, dict[str, str]]]  # the candidates, in id order


def _literal(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def needles(params: Mapping[str, Any]) -> list[list[str]]:
    """Groups of JSON string literals, one group per filter: an event that contains none of
    a group's literals cannot match. Values read without literal text (`<unknown>`,
    `<malformed>`, `<none>`) give no group."""
    groups: list[list[str]] = []
    types: list[Any] = []
    if params.get("type"):
        types.append(params["type"])
    if params.get("types"):
        types.extend(params["types"] if isinstance(params["types"], list) else [params["types"]])
    if types and all(isinstance(t, str) and t not in _PLACEHOLDERS for t in types):
        groups.append([_literal(t) for t in types])
    tenant = params.get("tenant")
    if tenant and isinstance(tenant, str) and tenant not in _PLACEHOLDERS:
        groups.append([_literal(tenant)])
    return groups


def plan(bus: Bus, job: Job) -> list[str]:
    """The script's arguments after the range and count: mode and needle groups."""
    p = job.params
    event_only = job.kind in EVENT_ONLY and not (p.get("error") or p.get("signature") or p.get("archive_job"))
    groups = [] if bus.masker.names_keys else needles(p)
    args = ["event" if event_only else "all", str(len(groups))]
    for g in groups:
        args += [str(len(g)), *g]
    return args


def read(bus: Bus, job: Job, lo: str, count: int) -> Read:
    """Up to `count` entries of the source from `lo` on, the candidates among them."""
    reply = bus.scripts.get("scan_batch")(keys=[job.source], args=[lo, job.upper, count, *plan(bus, job)])
    last = reply[0] if reply else ""
    rows = []
    for i in range(1, len(reply), 2):
        f = reply[i + 1]
        rows.append((reply[i], dict(zip(f[::2], f[1::2])) if isinstance(f, list) else {"event": f}))
    return Read(last, rows)


class ReadAhead:
    """Reads a job's source ahead of its moves, in a thread of its own (on another
    connection of the pool), so the runner filters and moves one read while Redis serves the
    next. `next(lo)` hands the reads over in order; a read that does not start at `lo` (the
    job was reloaded, another runner moved it on) ends the read-ahead."""

    DEPTH = 2

    def __init__(self, bus: Bus, job: Job, lo: str, size: Callable[[], int],
                 timed: Callable[[float], None] | None = None) -> None:
        self.bus, self.job, self.lo, self.size, self.timed = bus, job, lo, size, timed
        self.queue: queue.Queue[tuple[str, Read | BaseException]] = queue.Queue(self.DEPTH)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"busbot-read-{job.id}", daemon=True)
        self.thread.start()

    def _put(self, item: tuple[str, Read | BaseException]) -> bool:
        while not self.stopping.is_set():
            try:
                self.queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        lo = self.lo
        try:
            while not self.stopping.is_set():
                t0 = time.monotonic()
                got = read(self.bus, self.job, lo, self.size())
                if self.timed:
                    self.timed(time.monotonic() - t0)
                if not self._put((lo, got)) or not got.last:
                    return
                lo = "(" + got.last
        except BaseException as exc:  # handed to the runner, which knows what to do with it
            self._put((lo, exc))

    def next(self, lo: str) -> Read | None:
        """The read that starts at `lo`, or None (the read-ahead is then closed)."""
        start, got = self.queue.get()
        if start != lo:
            self.close()
            return None
        if isinstance(got, BaseException):
            self.close()
            raise got
        return got

    def close(self) -> None:
        self.stopping.set()
        while True:  # let a blocked put see the stop
            try:
                self.queue.get_nowait()
            except queue.Empty:
                break
