"""One read of a job's source: the entries of the id range it selects, and how far the
read went.

A reprocess or replay filtered by type, types and tenant only (what the preview counts
from raw pages) reads raw pages too: one `XRANGE ... COUNT n` left undecoded, decided by the
preview's own page rules (`bot.services.range_tally.PageRules`), so the job moves exactly
what its preview counted and Redis serves a plain XRANGE (a fraction of the cost of
reading the entries inside a script). Every other selection goes through
bot/lua/scan_batch.lua, which drops, inside Redis, entries that provably cannot match a
`type=` / `types=` / `tenant=` filter (their event does not contain the value as a JSON
string), returns the `event` field only for reprocess and replay, and leaves the decision to
`bot.jobs.select.selected`. A selection by ids, error text or signature, or a type or
tenant that masking rewrites, reads every entry in full, as before.
"""
from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import orjson

from bot import gcpause
from bot.bus import Bus
from bot.envelope import parse_entry
from bot.jobs.model import Job
from bot.jobs.mover import Item
from bot.jobs.select import item, odd_rule, replay_event, selected
from bot.services import range_tally, raw_read
from bot.services.range_tally import needles

EVENT_ONLY = frozenset({"reprocess", "replay"})  # kinds that write nothing but the event
RAW_SHARE = 20  # raw pages pay while one entry in RAW_SHARE read is selected, or more


@dataclass
class Read:
    last: str  # last id examined ("" : nothing left in the range)
    rows: list[tuple[str, dict[str, str]]]  # the candidates, in id order
    items: list[Item] | None = None  # what to move, when the read decided already (raw pages)
    examined: int = 0  # entries a raw read brought


def plan(bus: Bus, job: Job) -> list[str]:
    """The script's arguments after the range and count: mode and needle groups."""
    p = job.params
    event_only = job.kind in EVENT_ONLY and not (p.get("error") or p.get("signature") or p.get("archive_job"))
    groups = [] if bus.masker.names_keys else needles(p)
    args = ["event" if event_only else "all", str(len(groups))]
    for g in groups:
        args += [str(len(g)), *g]
    return args


def decide(bus: Bus, job: Job, rows: list[tuple[str, dict[str, str]]]) -> list[Item]:
    """The moves of a script read's candidates, decided one by one by the preview's rules
    (filters see masked text, as the preview did; the move copies the entry as it is)."""
    masked = job.params.get("error") or job.params.get("signature") or bus.masker.names_keys
    items = []
    for entry_id, fields in rows:
        e = parse_entry(entry_id, fields)
        if selected(job.kind, job.params, bus.masker.entry(e) if masked else e):
            items.append(item(job, e, as_read=True))
    return items


def raw(bus: Bus, job: Job) -> bool:
    """Whether the job reads raw pages decided by the preview's page rules."""
    return (job.kind in EVENT_ONLY and range_tally.eligible(job.kind, job.params)
            and not bus.masker.names_keys)


@dataclass
class Reader:
    """Chooses the way of each read of a job that may read raw pages: raw pages while at
    least one in RAW_SHARE of what they bring is selected (a DLQ flooded by one type, a
    replay of one type in ten), the script, which leaves non-candidates in Redis, while
    fewer are, going back to raw pages once a third of what the script returns is selected.
    Both ways select the same entries; only the cost differs (docs/benchmarks.md)."""
    raw_pages: bool = True

    def read(self, bus: Bus, job: Job, lo: str, count: int) -> Read:
        if not raw(bus, job):
            return read(bus, job, lo, count)
        if self.raw_pages or not needles(job.params):
            got = read_raw(bus, job, lo, count)
            self.raw_pages = RAW_SHARE * len(got.rows) >= got.examined
        else:
            got = read(bus, job, lo, count)
            self.raw_pages = 3 * len(got.rows) >= count
        return got


def read(bus: Bus, job: Job, lo: str, count: int) -> Read:
    """Up to `count` entries of the source from `lo` on, the candidates among them, read by
    bot/lua/scan_batch.lua."""
    reply = bus.scripts.get("scan_batch")(keys=[job.source], args=[lo, job.upper, count, *plan(bus, job)])
    last = reply[0] if reply else ""
    rows = []
    for i in range(1, len(reply), 2):
        f = reply[i + 1]
        rows.append((reply[i], dict(zip(f[::2], f[1::2])) if isinstance(f, list) else {"event": f}))
    return Read(last, rows)


def read_raw(bus: Bus, job: Job, lo: str, count: int) -> Read:
    """Up to `count` entries from `lo` on as one raw page, the selected ones as the move's
    items (a reprocess hands on the event as read, a replay its new envelope)."""
    with gcpause.paused():
        return _decided(bus, job, raw_read.page(bus.r, job.source, lo, job.upper, count))


def _decided(bus: Bus, job: Job, rows: list[raw_read.RawEntry]) -> Read:
    if not rows:
        return Read("", [])
    mask = bus.masker
    rules = range_tally.PageRules(job.kind, job.params, mask.text if mask.enabled else None)
    kept = rules.page(rows, odd_rule(mask, job.kind, job.params))
    events, envelopes = rules.events, rules.envelopes
    picked: list[tuple[str, dict[str, str]]] = []
    items: list[Item] = []
    for i, _, _ in kept:
        entry_id, f = rows[i]
        event = events[i]
        if event is None:  # an unusual layout: the entry's last `event`, as parse_entry reads it
            event = dict(zip(f[0::2], f[1::2])).get(b"event", b"")
        eid, text = entry_id.decode(), event.decode("utf-8", "replace")
        picked.append((eid, {"event": text}))
        if job.kind == "reprocess":
            envelope = envelopes[i]
            if envelope is None:  # read by the per-entry rules: their envelope id too
                items.append((eid, text, parse_entry(eid, {"event": text}).event_id or ""))
            else:
                items.append((eid, text, envelope.id if isinstance(envelope.id, str) else ""))
        else:
            items.append(_replay_item(job, eid, event, text))
    return Read(rows[-1][0].decode(), picked, items, len(rows))


def _replay_item(job: Job, eid: str, event: bytes, text: str) -> Item:
    """A replay's move of a selected event: parsed once by orjson (as parse_entry would)."""
    try:
        value = orjson.loads(event)
    except orjson.JSONDecodeError:  # e.g. bytes that are not UTF-8: parse_entry reads them replaced
        value = None
    if isinstance(value, dict):
        return (eid, replay_event(job.id, value), "")
    return item(job, parse_entry(eid, {"event": text}))


class ReadAhead:
    """Reads a job's source ahead of its moves, in a thread of its own (on another
    connection of the pool), so the runner filters and moves one read while Redis serves the
    next. `next(lo)` hands the reads over in order; a read that does not start at `lo` (the
    job was reloaded, another runner moved it on) ends the read-ahead."""

    DEPTH = 2

    def __init__(self, bus: Bus, job: Job, lo: str, size: Callable[[], int],
                 timed: Callable[[float], None] | None = None, reader: Reader | None = None) -> None:
        self.bus, self.job, self.lo, self.size, self.timed = bus, job, lo, size, timed
        self.reader = reader or Reader()
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
                got = self.reader.read(self.bus, self.job, lo, self.size())
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
