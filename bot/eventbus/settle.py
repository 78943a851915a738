"""Typed wrappers over the worker's three Lua scripts (bot/lua/eventbus_*.lua).

Each is one atomic step, so a crash between handler and acknowledgement can re-deliver an
entry (at least once) but never lose it or dead-letter it twice.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import orjson

from bot.bus import Bus
from bot.eventbus import slots


class Delivery(NamedTuple):
    """One pending entry in this consumer's hands."""
    entry_id: str
    fields: dict[str, str]
    attempt: int  # the entry's delivery count: 1 when read, +1 per claim


# A handled entry, ready to acknowledge: (entry id, event id, type, status, duration ms,
# attempt), status completed | unhandled. A plain tuple: the settle script's row as it is.
Outcome = tuple[str, str, str, str, int, int]


@dataclass(frozen=True)
class DeadLetter:
    """Everything the DLQ entry and its metadata record need."""
    delivery: Delivery
    raw_event: str  # the `event` field as read (or the fields as JSON if it had none)
    error: str
    error_stack: str
    moved_at: str
    attempts: int
    event_id: str
    type: str
    duration_ms: int


class Settler:
    """Binds the scripts to one bus, group and consumer."""

    def __init__(self, bus: Bus, group: str, consumer: str, metadata_maxlen: int):
        self.bus, self.group, self.consumer = bus, group, consumer
        self.maxlen = str(metadata_maxlen)
        k = bus.keys
        self.settle_keys = [k.events, k.metadata, k.worker_counts(group)]
        self._dlq_keys = [k.events, k.dlq, k.metadata, k.retry_schedule(group)]
        self._claim_keys = [k.events, k.retry_schedule(group)]
        # On a cluster whose stream names share no hash tag the one-script steps split
        self._split_ack = slots.ack_split(self)
        self._split_dead_letter = slots.dead_letter_split(self)

    def ack(self, outcomes: list[Outcome]) -> int:
        """Acknowledge handled entries and record them; returns how many were still ours
        to acknowledge (an entry settled elsewhere meanwhile gets no second record)."""
        if not outcomes:
            return 0
        if self._split_ack:
            return slots.ack(self, outcomes)
        rows = orjson.dumps(outcomes)
        return self.bus.scripts.get("eventbus_settle")(
            keys=self.settle_keys, args=[self.group, self.consumer, self.maxlen, rows])

    def dead_letter(self, d: DeadLetter) -> str | None:
        """The DLQ entry id, or None when the entry was settled or claimed elsewhere."""
        if self._split_dead_letter:
            return slots.dead_letter(self, d)
        res = self.bus.scripts.get("eventbus_dead_letter")(keys=self._dlq_keys, args=[
            self.group, self.consumer, d.delivery.entry_id, d.raw_event, d.error,
            d.error_stack, d.moved_at, d.attempts, d.event_id, d.type, d.duration_ms,
            self.maxlen])
        return res if isinstance(res, str) else None

    def touch(self, entry_ids: list[str]) -> None:
        """Reset the idle time of entries we hold (XCLAIM to ourselves, JUSTID: no
        delivery is counted)."""
        ids: list[Any] = list(entry_ids)
        self.bus.r.xclaim(self.bus.keys.events, self.group, self.consumer, 0, ids,
                          justid=True)

    def schedule_retry(self, entry_id: str, due_ms: int) -> None:
        self.bus.r.zadd(self.bus.keys.retry_schedule(self.group), {entry_id: due_ms})

    def claim(self, now_ms: int, min_idle_ms: int, cursor: str,
              count: int) -> tuple[str, list[Delivery]]:
        """Entries due for a retry and entries a dead consumer left idle; next cursor."""
        res = self.bus.scripts.get("eventbus_claim")(keys=self._claim_keys, args=[
            self.group, self.consumer, now_ms, min_idle_ms, cursor, count])
        return res[0], [Delivery(eid, dict(zip(flat[::2], flat[1::2])), int(n))
                        for eid, n, flat in res[1:]]
