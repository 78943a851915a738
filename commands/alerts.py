"""`/bus alerts`: every alert rule's state, its thresholds and when the bus was last checked."""
from __future__ import annotations

from bot.alerts.overview import last_check_ms, rule_statuses
from bot.alerts.view import value_text
from commands.invocation import Invocation
from commands.registry import REGISTRY
from commands.reply import Reply


def _row(status) -> dict:
    rule, st = status.rule, status.state
    level = "unknown" if st.value is None and not st.firing and st.checked_ms else st.level
    return {"id": rule.id, "title": rule.title, "level": level, "value": value_text(rule, st.value),
            "note": st.note, "warn": rule.fmt(rule.warn), "crit": rule.fmt(rule.crit),
            "since_ms": st.since if st.firing else None, "acked_by": st.acked_by,
            "snoozed_until": st.snoozed_until, "last_transition": st.last_transition,
            "last_transition_ms": st.last_transition_ms}


@REGISTRY.command("alerts", "Alert rules: state, thresholds, last check.")
def alerts_command(inv: Invocation) -> Reply:
    bus = inv.bus
    rows = [_row(s) for s in rule_statuses(bus)]
    firing = [r for r in rows if r["level"] in ("warning", "critical")]
    s = bus.settings
    context = {"rows": rows, "now": bus.clock(), "last_check_ms": last_check_ms(bus),
               "channel": s.bus_alert_channel, "interval": s.bus_check_interval,
               "hold": s.bus_alert_for, "repeat": s.bus_alert_repeat}
    text = (f"{len(firing)} alert(s) firing: " + ", ".join(f"{r['title']} ({r['level']})" for r in firing)
            if firing else "No alert is firing.")
    return Reply("alerts", context, text)
