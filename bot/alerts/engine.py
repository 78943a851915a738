"""One alert check: measure every metric, step every rule's state, claim the transitions.

Safe to run in several processes at once against the same Redis: each rule's change is a
compare-and-set (bot.alerts.state), so each transition is queued for Slack exactly once.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.alerts import samples, silences, state
from bot.alerts.checks import Metric, measure
from bot.alerts.machine import AlertState, Event, step
from bot.alerts.rules import GROUP_RULES, Rule, rule_for
from bot.alerts.silences import Silence
from bot.alerts.view import deliveries, known_roots, root_post, root_view, routed
from bot.bus import Bus
from bot.services import history

log = logging.getLogger(__name__)


@dataclass
class RuleResult:
    rule: Rule
    state: AlertState
    events: list[Event]  # the transitions this process claimed in this check


def _silence(new: AlertState, before: AlertState, rule: Rule, active: list[Silence], now: int) -> Silence | None:
    """The silence covering this rule at its level (the level it left, when it resolved),
    recorded in the state for `/bus alerts` and the alert message."""
    level = new.level if new.firing else before.level
    found = silences.matching(active, rule.id, level, now) if level != "healthy" else None
    new.silence_id = found.id if found else None
    new.silenced_by = found.created_by if found else None
    new.silenced_until = found.expires_ms if found else None
    return found


def _step_rule(bus: Bus, rule: Rule, metric: Metric, now: int, active: list[Silence] | None = None) -> RuleResult:
    s = bus.settings
    claimed: list[Event] = []

    def change(current: AlertState):
        new, events = step(rule, current, metric.value, metric.note, now,
                           s.bus_alert_for * 1000, s.bus_alert_repeat * 1000)
        claimed[:] = events
        silenced = _silence(new, current, rule, active or [], now)
        if not routed(s):
            return new, []  # no channel: state and `/bus alerts` only, nothing queued for Slack
        if silenced is not None:  # the state moves on; nothing is posted
            new.unposted = new.unposted or any(e.kind == "fire" for e in events)
            if events and not new.unposted and known_roots(new, s):
                # a root posted before the silence is still edited in place (an edit notifies
                # nobody), so it never shows a state that is over
                return new, [{"rule": rule.id, "episode": new.episode, "created_ms": now, "kind": "update",
                              "view": root_view(rule, new, samples.trend_text(bus, rule, now), s)}]
            return new, []
        if new.unposted:  # the episode began under a silence that has ended
            new.unposted = False
            post = root_post(rule, new, samples.trend_text(bus, rule, now), now, s) if new.firing else None
            return new, [post] if post else []
        if not events:
            return new, []
        return new, deliveries(rule, new, events, samples.trend_text(bus, rule, now), now, s)

    try:
        new_state = state.update(bus, rule.id, change)
    except state.StateConflict:  # other processes kept winning; they did this check's work
        log.warning("alert %s: state kept changing under this process; skipped this check", rule.id)
        return RuleResult(rule, state.load(bus, rule.id)[0], [])
    return RuleResult(rule, new_state or state.load(bus, rule.id)[0], claimed)  # `change` never declines


def run_check(bus: Bus) -> list[RuleResult]:
    """Measure and step every rule once; raises one of bot.redis_errors.UNREACHABLE when
    Redis is down."""
    metrics = measure(bus)
    now = bus.clock()
    p = bus.r.pipeline(transaction=False)
    for m in metrics:
        samples.record(p, bus, m.rule, now, m.value)
    p.set(bus.keys.alert_last_check, now)
    p.smembers(bus.keys.alert_rules)
    known = p.execute()[-1]
    history.record(bus, now, {m.rule: m.value for m in metrics})
    gone = _vanished_groups(known, metrics)
    active = silences.active(bus, now)
    results = [_step_rule(bus, rule_for(bus.settings, m.rule), m, now, active) for m in metrics + gone]
    _forget(bus, [r.rule.id for r in results[len(metrics):] if not r.state.firing])
    return results


def _vanished_groups(known: set[str], metrics: list[Metric]) -> list[Metric]:
    """A group that no longer exists has no lag: its alert resolves (after the hold time)."""
    measured = {m.rule for m in metrics}
    return [Metric(rule_id, 0.0, "the consumer group no longer exists")
            for rule_id in sorted(known - measured) if rule_id.startswith(GROUP_RULES)]


def _forget(bus: Bus, rule_ids: list[str]) -> None:
    """Drop the state of vanished groups once their alert is over."""
    if not rule_ids:
        return
    k = bus.keys
    p = bus.r.pipeline(transaction=False)
    p.srem(k.alert_rules, *rule_ids)
    for key in [k.alert(i) for i in rule_ids] + [k.alert_samples(i) for i in rule_ids]:
        p.delete(key)  # one key a command: on a cluster they are in different slots
    p.execute()
