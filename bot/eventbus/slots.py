"""Settling on a Redis Cluster whose stream names do not share a hash tag (the platform's
defaults: the main stream, the DLQ and the metadata stream in three slots).

A Lua script may only touch one slot, so the worker's one-script steps split:

- Acknowledging a batch: `eventbus_ack.lua` acknowledges the entries in the main stream's
  slot and says which it acknowledged; only those get their metadata record (or their
  `unhandled` count), written next. A crash between the two leaves entries acknowledged
  without their record: the processing figures undercount by those, nothing is re-run.
- Dead-lettering: the entry must still be pending with this consumer; then
  `eventbus_dead_letter_append.lua` writes the DLQ entry in the DLQ's slot together with a
  marker holding its id (a retry of the same entry, after a crash or by the consumer that
  claimed it, finds the marker and writes nothing); then the entry is acknowledged and
  dropped from the retry schedule in the main stream's slot (one MULTI), and the first to
  acknowledge it records the `failed` metadata entry. So no entry is dead-lettered twice;
  an entry claimed by another consumer between the ownership check and the DLQ write can
  end up both in the DLQ and handled by that consumer (delivery stays at least once).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from bot.keys import same_slot

if TYPE_CHECKING:
    from bot.eventbus.settle import DeadLetter, Outcome, Settler

MARKER_TTL_S = 7 * 86_400  # a dead-lettered entry's marker; far longer than any retry


def ack_split(s: Settler) -> bool:
    """Acknowledging must split: the settle script's keys are in several slots."""
    return s.bus.cluster and not same_slot(*s.settle_keys)


def dead_letter_split(s: Settler) -> bool:
    k = s.bus.keys
    return s.bus.cluster and not same_slot(k.events, k.dlq, k.metadata, k.retry_schedule(s.group))


def ack(s: Settler, outcomes: list[Outcome]) -> int:
    bus, k = s.bus, s.bus.keys
    acked = bus.scripts.get("eventbus_ack")(keys=[k.events], args=[s.group, *(o[0] for o in outcomes)])
    p = bus.r.pipeline(transaction=False)
    counts, recorded = k.worker_counts(s.group), 0
    for (entry, event_id, etype, status, duration, attempt), done in zip(outcomes, acked):
        if not done:
            continue
        if status == "unhandled":
            p.hincrby(counts, "unhandled", 1)
            p.hincrby(counts, f"unhandled:{etype}", 1)
        else:
            recorded += 1
            p.xadd(k.metadata, {"eventId": event_id, "type": etype, "status": status, "durationMs": duration,
                                "group": s.group, "consumer": s.consumer, "entryId": entry, "attempts": attempt})
    if recorded:
        p.xtrim(k.metadata, maxlen=int(s.maxlen), approximate=True)
    p.execute()
    return sum(int(x) for x in acked)


def dead_letter(s: Settler, d: DeadLetter) -> str | None:
    bus, k = s.bus, s.bus.keys
    entry = d.delivery.entry_id
    held = bus.r.xpending_range(k.events, s.group, min=entry, max=entry, count=1)
    if not held or held[0]["consumer"] != s.consumer:
        return None  # settled already, or claimed from us
    dlq_id, _ = bus.scripts.get("eventbus_dead_letter_append")(
        keys=[k.dlq, k.dead_lettered(s.group, entry)],
        args=[d.raw_event, d.error, d.error_stack, d.moved_at, d.attempts, entry, s.group, MARKER_TTL_S])
    p = bus.r.pipeline(transaction=True)  # one slot: the retry schedule is tagged with the stream
    p.xack(k.events, s.group, entry)
    p.zrem(k.retry_schedule(s.group), entry)
    acked, _ = p.execute()
    if acked:
        bus.r.xadd(k.metadata, {"eventId": d.event_id, "type": d.type, "status": "failed",
                                "durationMs": d.duration_ms, "group": s.group, "consumer": s.consumer,
                                "entryId": entry, "attempts": d.attempts},
                   maxlen=int(s.maxlen), approximate=True)
    return str(dlq_id)
