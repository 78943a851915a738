"""Silences: for a while, alerts that match post nothing to Slack (like Alertmanager's).

A silence has matchers (rule, consumer group, severity: each one it names must match; at
least one is named), an expiry, who made it and why. A silenced alert still changes state
and still shows in `/bus alerts` (marked silenced); only its Slack messages are held back.
An episode that began under a silence and still fires when the silence ends is posted then.

All silences live in one Redis hash (id -> JSON), read once per alert check. Expired
silences stay listed for `KEEP_MS` (so "who silenced what" can be answered), then go.
"""
from __future__ import annotations

import re
import uuid
from typing import Literal

from pydantic import BaseModel, ValidationError

from bot.bus import Bus

KEEP_MS = 86_400_000  # how long an expired silence stays in the hash
MAX_MS = 7 * 86_400_000  # the longest silence
RULE_KINDS = ("dlq_size", "failed_per_hour", "p99", "lag", "idle")  # what `rule=` may name
GROUP_KINDS = ("lag", "idle")  # rules per consumer group
Severity = Literal["warning", "critical"]
_DURATION = re.compile(r"(\d+)([smhd])")
_UNIT_MS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


class Silence(BaseModel):
    id: str
    rule: str | None = None  # a rule kind: dlq_size, failed_per_hour, p99, lag, idle
    group: str | None = None  # a consumer group (the lag and idle rules)
    severity: Severity | None = None
    reason: str = ""
    created_by: str
    created_ms: int
    expires_ms: int
    expired_by: str | None = None  # who ended it early ("Expire now")

    def active(self, now: int) -> bool:
        return self.expires_ms > now

    def matches(self, rule_id: str, level: str) -> bool:
        """Does this silence cover alert `rule_id` (`dlq_size`, `lag:<group>`) at `level`?"""
        kind, _, group = rule_id.partition(":")
        return ((self.rule is None or self.rule == kind)
                and (self.group is None or self.group == group)
                and (self.severity is None or self.severity == level))

    @property
    def matchers(self) -> str:
        """`rule=lag group=analytics`: what it matches, as the command takes it."""
        parts = [f"{k}={v}" for k, v in (("rule", self.rule), ("group", self.group),
                                          ("severity", self.severity)) if v]
        return " ".join(parts)


def parse_duration(text: str) -> int | None:
    """`2h`, `30m`, `1h30m`, `1d` -> ms; None when it is not one."""
    text = text.strip().lower()
    if not text or _DURATION.sub("", text):
        return None
    return sum(int(n) * _UNIT_MS[u] for n, u in _DURATION.findall(text))


def _parse(raw) -> Silence | None:
    try:
        return Silence.model_validate_json(raw)
    except (ValidationError, ValueError):
        return None  # not one of ours: never fail an alert check over it


def load(bus: Bus) -> list[Silence]:
    """Every silence kept, newest first."""
    found = [s for s in (_parse(raw) for raw in bus.r.hvals(bus.keys.silences)) if s is not None]
    return sorted(found, key=lambda s: s.created_ms, reverse=True)


def active(bus: Bus, now: int) -> list[Silence]:
    return [s for s in load(bus) if s.active(now)]


def matching(silences: list[Silence], rule_id: str, level: str, now: int) -> Silence | None:
    """The active silence covering `rule_id` at `level` that lasts longest, if any."""
    covering = [s for s in silences if s.active(now) and s.matches(rule_id, level)]
    return max(covering, key=lambda s: s.expires_ms) if covering else None


def get(bus: Bus, silence_id: str) -> Silence | None:
    raw = bus.r.hget(bus.keys.silences, silence_id)
    return _parse(raw) if raw else None


def create(bus: Bus, *, created_by: str, now: int, duration_ms: int, rule: str | None = None,
           group: str | None = None, severity: Severity | None = None, reason: str = "") -> Silence:
    """Store a new silence (and forget silences that expired more than `KEEP_MS` ago)."""
    silence = Silence(id=uuid.uuid4().hex[:8], rule=rule, group=group, severity=severity,
                      reason=reason, created_by=created_by, created_ms=now,
                      expires_ms=now + min(duration_ms, MAX_MS))
    stale = [s.id for s in load(bus) if s.expires_ms + KEEP_MS < now]
    p = bus.r.pipeline(transaction=False)
    p.hset(bus.keys.silences, silence.id, silence.model_dump_json())
    if stale:
        p.hdel(bus.keys.silences, *stale)
    p.execute()
    return silence


def expire(bus: Bus, silence_id: str, by: str, now: int) -> tuple[Silence | None, bool]:
    """End a silence now: (the silence, True) when this call ended it; (silence, False) when
    it had already ended; (None, False) when there is no such silence."""
    key = bus.keys.silences
    out: list = [None, False]

    def end(pipe) -> None:
        raw = pipe.hget(key, silence_id)
        silence = _parse(raw) if raw else None
        out[:] = [silence, False]
        if silence is None or not silence.active(now):
            return
        ended = silence.model_copy(update={"expires_ms": now, "expired_by": by})
        pipe.multi()
        pipe.hset(key, silence_id, ended.model_dump_json())
        out[:] = [ended, True]
    bus.r.transaction(end, key)
    return out[0], out[1]
