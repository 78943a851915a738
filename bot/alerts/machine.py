"""One rule's alert state and its pure transition function (no Redis, no clock of its own).

Semantics, per level L in (warning, critical) with threshold T(L):
- "above L since t": the value has been > T(L) at every check since t.
- "clear of L since t": the value has been <= T(L) x HYSTERESIS at every check since t.
- The alert moves UP to L when it has been above L for BUS_ALERT_FOR (the hold time).
- It moves DOWN from L (one level, possibly twice in one check) when it has been clear of L
  for the hold time. A value between T(L) x HYSTERESIS and T(L) neither fires nor clears.
- An unknown value (None) breaks both kinds of streak: it neither fires nor resolves.
- While firing and neither acknowledged nor snoozed, a reminder is due every
  BUS_ALERT_REPEAT since the last message about it.
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from bot.alerts.rules import HYSTERESIS, Rule
from bot.services.thresholds import Level

_RANK = {"healthy": 0, "warning": 1, "critical": 2}
_LOWER: dict[str, Level] = {"critical": "warning", "warning": "healthy"}
EventKind = Literal["fire", "escalate", "deescalate", "resolve", "remind"]


class AlertState(BaseModel):
    level: Level = "healthy"
    value: float | None = None
    note: str = ""
    checked_ms: int | None = None
    above: dict[str, int] = Field(default_factory=dict)  # level -> above since (ms)
    clear: dict[str, int] = Field(default_factory=dict)  # level -> clear since (ms)
    episode: int | None = None  # ms it fired; identifies the Slack message of the episode
    since: int | None = None  # the condition started (first check above the warning level)
    peak: float | None = None
    resolved_ms: int | None = None
    acked_by: str | None = None
    acked_ms: int | None = None
    snoozed_until: int | None = None
    snoozed_by: str | None = None
    last_transition: str | None = None
    last_transition_ms: int | None = None
    last_notified_ms: int | None = None
    # silences (bot.alerts.silences): the one muting this alert now, and whether the current
    # episode's root message is still unposted because it began under a silence
    silence_id: str | None = None
    silenced_by: str | None = None
    silenced_until: int | None = None
    unposted: bool = False
    # channels the episode's root messages went to; None in a state stored before they were
    # recorded (its one root went to BUS_ALERT_CHANNEL)
    roots: list[str] | None = None

    @property
    def firing(self) -> bool:
        return self.level != "healthy"

    def snoozed(self, now: int) -> bool:
        return bool(self.snoozed_until and self.snoozed_until > now)


class Event(BaseModel):
    kind: EventKind
    before: Level
    after: Level
    at_ms: int


def _track(rule: Rule, st: AlertState, value: float | None, now: int) -> None:
    for level in ("warning", "critical"):
        if value is None:
            st.above.pop(level, None)
            st.clear.pop(level, None)
            continue
        threshold = rule.threshold(level)
        if value > threshold:
            st.above.setdefault(level, now)
        else:
            st.above.pop(level, None)
        if value <= threshold * HYSTERESIS:
            st.clear.setdefault(level, now)
        else:
            st.clear.pop(level, None)


def _target(st: AlertState, now: int, hold_ms: int) -> Level:
    def held(since: int | None) -> bool:
        return since is not None and now - since >= hold_ms

    for level in ("critical", "warning"):
        if held(st.above.get(level)) and _RANK[level] > _RANK[st.level]:
            return level
    new = st.level
    while new != "healthy" and held(st.clear.get(new)):
        new = _LOWER[new]
    return new


def _apply(st: AlertState, old: Level, new: Level, value: float | None, now: int) -> Event:
    kind: EventKind
    if old == "healthy":
        kind = "fire"
        st.episode, st.since, st.peak, st.resolved_ms = now, min(st.above.values(), default=now), value, None
        st.acked_by = st.acked_ms = st.snoozed_until = st.snoozed_by = None
        st.roots, st.unposted = [], False
    elif new == "healthy":
        kind, st.resolved_ms = "resolve", now
    else:
        kind = "escalate" if _RANK[new] > _RANK[old] else "deescalate"
    st.level, st.last_transition_ms, st.last_notified_ms = new, now, now
    st.last_transition = {"fire": f"fired ({new})", "resolve": "resolved",
                          "escalate": f"escalated to {new}", "deescalate": f"de-escalated to {new}"}[kind]
    return Event(kind=kind, before=old, after=new, at_ms=now)


def step(rule: Rule, state: AlertState, value: float | None, note: str, now: int,
         hold_ms: int, repeat_ms: int) -> tuple[AlertState, list[Event]]:
    """The state after one check, and what happened (at most one event)."""
    st = state.model_copy(deep=True)
    st.value, st.note, st.checked_ms = value, note, now
    _track(rule, st, value, now)
    old, new = st.level, _target(st, now, hold_ms)
    if st.firing and value is not None:
        st.peak = value if st.peak is None else max(st.peak, value)
    if new != old:
        return st, [_apply(st, old, new, value, now)]
    if (st.firing and not st.acked_by and not st.snoozed(now)
            and now - (st.last_notified_ms or now) >= repeat_ms):
        st.last_notified_ms = now
        return st, [Event(kind="remind", before=old, after=old, at_ms=now)]
    return st, []
