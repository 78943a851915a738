"""`dlq top`: exact counts over the WHOLE DLQ by event type, error signature and tenant.

The DLQ is read oldest to newest in batches (memory stays flat however large it is). The
result is cached in Redis with the stream's fingerprint from XINFO STREAM: an unchanged
DLQ is answered from the cache, a DLQ that only grew is read from where the cache stopped.
Any deletion or trim (the length moves differently from entries-added) means a full read.
"""
from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from collections.abc import Callable
from operator import itemgetter

import redis
from pydantic import BaseModel

from bot import gcpause
from bot.bus import Bus
from bot.envelope import MALFORMED
from bot.mask import Masker
from bot.services.entry_keys import EntryKeys
from bot.services.raw_read import pages

SCAN_BATCH = 2000
_FIRST = itemgetter(0)
MAX_CACHED_KEYS = 20_000  # distinct signatures beyond which the result is not cached
CACHE_TTL_S = 7 * 86400
CACHE_VERSION = 3  # bump when the cached layout changes: an old cache is then ignored
LOCK_MS = 30_000  # one reader at a time; a crashed reader's lock expires after this
WAIT_STEP_S = 0.1
MAX_WAIT_S = 600  # a waiter gives up on a reader that keeps renewing past this, and reads itself


class Row(BaseModel):
    key: str
    count: int
    newest_id: str


class DlqTop(BaseModel):
    stream: str
    total: int
    malformed: int
    by_type: list[Row]
    by_signature: list[Row]
    by_tenant: list[Row]
    source: str  # "scan", "cache" or "incremental"
    read: int  # entries read for this answer
    elapsed_ms: float


class _Tally:
    """Counts per key with the newest id seen; newer ids always come later in a scan.
    A page is added at once (Counter.update and dict.update run in C)."""

    def __init__(self, data: dict | None = None):
        self.counts: Counter[str] = Counter({k: c for k, (c, _) in (data or {}).items()})
        self.newest: dict[str, str | bytes] = {k: i for k, (_, i) in (data or {}).items()}

    def add_page(self, keys: list[str], ids: list[bytes]) -> None:
        self.counts.update(keys)
        self.newest.update(zip(keys, ids))

    @property
    def rows(self) -> dict[str, list]:
        return {k: [c, _text(self.newest[k])] for k, c in self.counts.items()}

    def top(self, n: int) -> list[Row]:
        ranked = sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
        return [Row(key=k, count=c, newest_id=_text(self.newest[k])) for k, c in ranked]


def _text(entry_id: str | bytes) -> str:
    return entry_id.decode() if isinstance(entry_id, bytes) else entry_id


def _fingerprint(r: redis.Redis, stream: str, mask: str = "") -> dict | None:
    """The stream's shape, and the mask rules its signatures were computed with."""
    try:
        info = r.xinfo_stream(stream)
    except redis.ResponseError:  # no such stream: an empty DLQ
        return None
    first, newest = info.get("first-entry"), info.get("last-entry")
    return {"length": info["length"], "added": info.get("entries-added"),
            "first": first[0] if first else None, "last": newest[0] if newest else None,
            "generated": info.get("last-generated-id"), "mask": mask}


def _scan(r: redis.Redis, stream: str, tallies: tuple[_Tally, _Tally, _Tally], start: str | None,
          mask: Masker | None = None, renew: Callable[[], None] | None = None) -> tuple[int, int, str | None]:
    with gcpause.paused():
        return _count_pages(r, stream, start, tallies, EntryKeys(mask), renew)


def _count_pages(r: redis.Redis, stream: str, start: str | None, tallies: tuple[_Tally, _Tally, _Tally],
                 keys: EntryKeys, renew: Callable[[], None] | None) -> tuple[int, int, str | None]:
    by_type, by_sig, by_tenant = tallies
    read = malformed = 0
    last = None
    for rows in pages(r, stream, start, batch=SCAN_BATCH):
        ids = list(map(_FIRST, rows))
        types, tenants, signatures = keys.page(rows)
        by_type.add_page(types, ids)
        by_sig.add_page(signatures, ids)
        by_tenant.add_page(tenants, ids)
        malformed += types.count(MALFORMED)
        read += len(rows)
        last = ids[-1].decode()
        if renew is not None:
            renew()
    return read, malformed, last


def dlq_top(bus: Bus, n: int = 10) -> DlqTop:
    """Exact counts; at most one process reads a changed DLQ at a time (a lock next to the
    cache), the others wait for its result instead of reading the same entries again."""
    t0 = time.perf_counter()
    r, stream = bus.r, bus.keys.dlq
    cache_key, lock_key = bus.keys.dlq_top_cache(stream), bus.keys.dlq_top_lock(stream)
    fp, cached = _fingerprint(r, stream, bus.masker.key), _load(r, cache_key)
    token = uuid.uuid4().hex
    if fp and not (cached and cached["fp"] == fp):
        if not r.set(lock_key, token, nx=True, px=LOCK_MS):
            _wait_while_locked(r, lock_key)
            fp = _fingerprint(r, stream, bus.masker.key)
        cached = _load(r, cache_key)  # the reader before us may have just stored it
    try:
        tallies, malformed, read, source, last = _count(r, stream, fp, cached, bus.masker,
                                                        _renewer(r, lock_key, token))
        total = sum(tallies[0].counts.values())
        if fp and source != "cache" and len(tallies[1].counts) <= MAX_CACHED_KEYS and _complete(fp, total, last):
            r.set(cache_key, json.dumps({"version": CACHE_VERSION, "fp": fp, "malformed": malformed,
                                         "scanned_to": last, "type": tallies[0].rows, "sig": tallies[1].rows,
                                         "tenant": tallies[2].rows}), ex=CACHE_TTL_S)
    finally:
        if r.get(lock_key) == token:
            r.delete(lock_key)
    return DlqTop(stream=stream, total=total, malformed=malformed,
                  by_type=tallies[0].top(n), by_signature=tallies[1].top(n),
                  by_tenant=tallies[2].top(n), source=source, read=read,
                  elapsed_ms=round((time.perf_counter() - t0) * 1000, 1))


def _renewer(r: redis.Redis, lock_key: str, token: str) -> Callable[[], None]:
    """Keeps our lock while we read (a read may outlast LOCK_MS on a slow Redis), so the
    waiting processes keep waiting instead of reading the same entries again."""
    renewed = time.monotonic()

    def renew() -> None:
        nonlocal renewed
        if time.monotonic() - renewed >= LOCK_MS / 3000:  # a third of the lock's life
            renewed = time.monotonic()
            if r.get(lock_key) == token:
                r.pexpire(lock_key, LOCK_MS)
    return renew


def _count(r: redis.Redis, stream: str, fp: dict | None, cached: dict | None, mask: Masker,
           renew: Callable[[], None] | None = None):
    """(tallies, malformed, entries read, source, last id counted) from the cheapest path."""
    if fp is None:
        return (_Tally(), _Tally(), _Tally()), 0, 0, "scan", None
    if cached and cached["fp"] == fp:
        tallies = tuple(_Tally(cached[k]) for k in ("type", "sig", "tenant"))
        return tallies, cached["malformed"], 0, "cache", cached["scanned_to"]
    if cached and _only_grew(cached["fp"], fp):
        tallies = (_Tally(cached["type"]), _Tally(cached["sig"]), _Tally(cached["tenant"]))
        read, more_malformed, last = _scan(r, stream, tallies, "(" + cached["scanned_to"], mask, renew)
        return tallies, cached["malformed"] + more_malformed, read, "incremental", last or cached["scanned_to"]
    tallies = (_Tally(), _Tally(), _Tally())
    read, malformed, last = _scan(r, stream, tallies, None, mask, renew)
    return tallies, malformed, read, "scan", last


def _load(r: redis.Redis, cache_key: str) -> dict | None:
    cached = json.loads(r.get(cache_key) or "null")
    return cached if cached and cached.get("version") == CACHE_VERSION else None


def _wait_while_locked(r: redis.Redis, lock_key: str) -> None:
    """Another process is counting: wait for it while it holds the lock (it renews the
    lock as it reads; a crashed reader's lock expires within LOCK_MS)."""
    deadline = time.monotonic() + MAX_WAIT_S
    while time.monotonic() < deadline and r.exists(lock_key):
        time.sleep(WAIT_STEP_S)


def _only_grew(old: dict, new: dict) -> bool:
    """True when entries were only appended since `old` (no XDEL, no trim)."""
    if old["added"] is None or new["added"] is None or old["first"] is None:
        return False
    grown = new["added"] - old["added"]
    return (grown >= 0 and new["length"] - old["length"] == grown and new["first"] == old["first"]
            and old.get("mask") == new.get("mask"))


def _complete(fp: dict, total: int, last: str | None) -> bool:
    """The scan saw exactly the fingerprinted stream (nothing was added or removed meanwhile)."""
    return total == fp["length"] and last == fp["last"]
