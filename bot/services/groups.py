"""Consumer groups in detail: per-consumer pending and idle time, oldest pending entry.

The runbook's `XINFO GROUPS` + `XPENDING <stream> <group>`, one pipeline per call.
"""
from __future__ import annotations

from pydantic import BaseModel

from bot.bus import Bus
from bot.services.health import GroupHealth, get_health


class ConsumerInfo(BaseModel):
    name: str
    pending: int
    idle_ms: int
    inactive_ms: int | None = None  # Redis 7.2+: since the last successful read


class GroupDetail(BaseModel):
    group: GroupHealth
    consumers: list[ConsumerInfo]
    oldest_pending_id: str | None
    oldest_pending_age_ms: int | None


class GroupsView(BaseModel):
    stream: str
    stream_exists: bool
    groups: list[GroupDetail]
    checked_ms: int


def get_groups(bus: Bus) -> GroupsView:
    health = get_health(bus)
    now = health.checked_ms
    p = bus.r.pipeline(transaction=False)
    for g in health.groups:
        p.xinfo_consumers(bus.keys.events, g.name)
    details = []
    for g, consumers in zip(health.groups, p.execute(raise_on_error=False)):
        consumers = [] if isinstance(consumers, Exception) else consumers
        details.append(GroupDetail(
            group=g,
            consumers=sorted((ConsumerInfo(name=c["name"], pending=c.get("pending", 0),
                                           idle_ms=c.get("idle", 0), inactive_ms=c.get("inactive"))
                              for c in consumers), key=lambda c: (-c.pending, c.name)),
            oldest_pending_id=g.oldest_pending_id,
            oldest_pending_age_ms=g.oldest_pending_age_ms))
    return GroupsView(stream=bus.keys.events, stream_exists=health.stream_exists,
                      groups=details, checked_ms=now)
