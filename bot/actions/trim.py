"""`trim <maxlen>` planned safely: how many of the oldest entries MAXLEN would remove, and
how many may go without touching an entry some consumer group has not yet been delivered
(or still has pending). Executed as approximate `XTRIM MINID ~ <id> LIMIT 10000` calls, each
far under 50 ms, so Redis removes whole nodes and a few entries may stay."""
from __future__ import annotations

import redis
from pydantic import BaseModel

from bot.bus import Bus
from bot.redis_types import entries

READ = 10_000  # ids read per XRANGE while locating the cut
WALK_CAP = 5_000_000
TRIM_LIMIT = 10_000


class TrimPlan(BaseModel):
    stream: str
    length: int
    maxlen: int
    over: int  # entries MAXLEN would remove
    may_go: int  # of those, how many are safe (delivered to every group, none pending)
    threshold: str | None  # trim removes ids below this one
    bound: str | None  # the oldest id some group still needs, if it stops the trim
    bound_group: str | None
    bound_reason: str | None
    forced: bool = False


def _key(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


def safety_bound(bus: Bus) -> tuple[str | None, str | None, str | None]:
    """The oldest id some group still needs: (id, group, why); None when no group reads."""
    try:
        groups = bus.r.xinfo_groups(bus.keys.events)
    except redis.ResponseError:
        return None, None, None
    best: tuple[str, str, str] | None = None
    for g in groups:
        pending = bus.r.xpending(bus.keys.events, g["name"]) if g["pending"] else None
        if pending and pending.get("min"):
            need, why = pending["min"], "still has it pending (delivered, not acknowledged)"
        else:
            ms, seq = _key(g["last-delivered-id"])
            need, why = f"{ms}-{seq + 1}", "has not been delivered it yet"
        if best is None or _key(need) < _key(best[0]):
            best = (need, g["name"], why)
    return best or (None, None, None)


def plan(bus: Bus, maxlen: int, force: bool = False) -> TrimPlan:
    """Walk the oldest entries MAXLEN would remove, stopping at the safety bound."""
    stream = bus.keys.events
    length = bus.r.xlen(stream)
    over = max(0, length - maxlen)
    bound, group, why = (None, None, None) if force else safety_bound(bus)
    may_go, last_gone, seen, cursor, stopped = 0, None, 0, "-", False
    while seen < min(over, WALK_CAP) and not stopped:
        rows = entries(bus.r.xrange(stream, cursor, "+", count=min(READ, over - seen)))
        if not rows:
            break
        for entry_id, _ in rows:
            if bound and _key(entry_id) >= _key(bound):
                stopped = True
                break
            may_go, last_gone = may_go + 1, entry_id
        seen, cursor = seen + len(rows), "(" + rows[-1][0]
    threshold = None
    if last_gone:
        ms, seq = _key(last_gone)
        threshold = f"{ms}-{seq + 1}"
    return TrimPlan(stream=stream, length=length, maxlen=maxlen, over=over, may_go=may_go,
                    threshold=threshold, bound=bound if stopped else None,
                    bound_group=group if stopped else None,
                    bound_reason=why if stopped else None, forced=force)


def execute(bus: Bus, threshold: str, force: bool = False) -> int:
    """Trim entries below `threshold` (never past the safety bound as it is now, unless
    forced); returns how many Redis removed."""
    if not force:
        bound, _, _ = safety_bound(bus)
        if bound and _key(bound) < _key(threshold):
            threshold = bound
    removed = 0
    while True:
        n = bus.r.xtrim(bus.keys.events, minid=threshold, approximate=True, limit=TRIM_LIMIT)
        removed += n
        if not n:
            return removed
