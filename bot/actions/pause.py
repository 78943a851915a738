"""Pause and resume a consumer group (the pause protocol): the key
`<events>:paused:<group>` holds {by, at, reason} while paused, and each change is announced
on the control channel. Consumers check the key before each read (bot/eventbus/pause.py)."""
from __future__ import annotations

import json

import redis
from pydantic import BaseModel

from bot.bus import Bus
from bot.redis_types import maybe_text
from bot.timeparse import iso_ms


class GroupState(BaseModel):
    name: str
    exists: bool
    consumers: int = 0
    pending: int = 0
    paused: dict | None = None
    others: list[str] = []


def group_state(bus: Bus, group: str) -> GroupState:
    try:
        groups = bus.r.xinfo_groups(bus.keys.events)
    except redis.ResponseError as exc:  # the stream does not exist (yet)
        if "no such key" not in str(exc).lower():
            raise
        groups = []
    raw = maybe_text(bus.r.get(bus.keys.paused(group)))
    paused = _parse(raw) if raw is not None else None
    for g in groups:
        if g["name"] == group:
            return GroupState(name=group, exists=True, consumers=g["consumers"],
                              pending=g["pending"], paused=paused)
    return GroupState(name=group, exists=False, paused=paused, others=[g["name"] for g in groups])


def _parse(raw: str) -> dict:
    try:
        value = json.loads(raw)
    except ValueError:
        return {"by": "?", "reason": raw}
    return value if isinstance(value, dict) else {"by": "?", "reason": raw}


def _announce(bus: Bus, group: str, state: str, by: str, at: str) -> None:
    bus.r.publish(bus.keys.control_channel, json.dumps(
        {"group": group, "state": state, "by": by, "at": at, "source": "busbot"}))


def pause(bus: Bus, group: str, by: str, reason: str = "") -> bool:
    """Pause `group`; False when it was already paused (the key is left as it was)."""
    at = iso_ms(bus.clock())
    if not bus.r.set(bus.keys.paused(group), json.dumps({"by": by, "at": at, "reason": reason}), nx=True):
        return False
    _announce(bus, group, "paused", by, at)
    return True


def resume(bus: Bus, group: str, by: str) -> bool:
    """Resume `group`; False when it was not paused."""
    if not bus.r.delete(bus.keys.paused(group)):
        return False
    _announce(bus, group, "running", by, iso_ms(bus.clock()))
    return True
