"""Per-rule alert state in Redis: one hash per rule with the state JSON and a version.

Every change is a compare-and-set on the version (bot/lua/alert_transition.lua) that also
queues the Slack deliveries the change causes. Two processes that computed the same
transition race on the version: one wins and queues the posts, the other re-reads and
finds nothing left to do. A restarted process reads the state back and posts nothing new.
"""
from __future__ import annotations

import json
from collections.abc import Callable

from bot.alerts.machine import AlertState
from bot.bus import Bus

MAX_RETRIES = 5


class StateConflict(Exception):
    """Other processes kept changing the state; the caller gives up for this round."""


def load(bus: Bus, rule_id: str) -> tuple[AlertState, int]:
    raw = bus.r.hmget(bus.keys.alert(rule_id), "state", "version")
    return parse(raw[0]), int(raw[1] or 0)


def parse(raw: str | bytes | None) -> AlertState:
    return AlertState.model_validate_json(raw) if raw else AlertState()


def load_all(bus: Bus) -> dict[str, AlertState]:
    rules = sorted(str(x) for x in bus.r.smembers(bus.keys.alert_rules))  # the client decodes
    p = bus.r.pipeline(transaction=False)
    for rule_id in rules:
        p.hget(bus.keys.alert(rule_id), "state")
    return {rule_id: parse(raw) for rule_id, raw in zip(rules, p.execute())}


def claim(bus: Bus, rule_id: str, version: int, state: AlertState, deliveries: list[dict]) -> bool:
    """Write `state` if the stored version is still `version`; queue `deliveries` with it."""
    k = bus.keys
    # The rule's state and outbox share a slot and change in one script. The two index sets
    # are elsewhere (a cluster spreads them over other slots): they are written before the
    # script, so a crash right after it cannot leave a queued delivery unindexed, and again
    # after it, so an outbox emptied and unindexed meanwhile by a deliverer is found again.
    _index(bus, rule_id, bool(deliveries))
    new_version = bus.scripts.get("alert_transition")(
        keys=[k.alert(rule_id), k.alert_outbox(rule_id)],
        args=[version, state.model_dump_json(), *(json.dumps(d) for d in deliveries)])
    if new_version and deliveries:
        bus.r.sadd(k.alert_outbox_index, rule_id)
    return bool(new_version)


def _index(bus: Bus, rule_id: str, queued: bool) -> None:
    p = bus.r.pipeline(transaction=False)
    p.sadd(bus.keys.alert_rules, rule_id)
    if queued:
        p.sadd(bus.keys.alert_outbox_index, rule_id)
    p.execute()


def update(bus: Bus, rule_id: str,
           change: Callable[[AlertState], tuple[AlertState, list[dict]] | None]) -> AlertState | None:
    """Read-modify-write with retries: `change` returns (state, deliveries) or None for no-op."""
    for _ in range(MAX_RETRIES):
        state, version = load(bus, rule_id)
        result = change(state)
        if result is None:
            return None
        if claim(bus, rule_id, version, *result):
            return result[0]
    raise StateConflict(f"alert state of {rule_id} kept changing under us")
