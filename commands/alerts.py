"""`/bus alerts`: every alert rule's state, its thresholds and when the bus was last checked."""
from __future__ import annotations

from bot.alerts import outbox, state
from bot.alerts.overview import last_check_ms, rule_statuses
from bot.alerts.rules import rule_for
from bot.alerts.view import note_delivery, value_text
from bot.phrase import PhraseLike, code, person, phrase, plain, symbol
from bot.plural import plural
from bot.render import render_reply
from bot.services.dlq_top import dlq_top
from commands.actions import ActionCall, action
from commands.dlq import dlq_top_reply
from commands.invocation import Invocation
from commands.registry import REGISTRY
from commands.reply import Reply
from commands.reprocess import preview_reprocess


def _row(status) -> dict:
    rule, st = status.rule, status.state
    level = "unknown" if st.value is None and not st.firing else st.level
    value = value_text(rule, st.value) if st.checked_ms else "not checked yet"
    return {"id": rule.id, "title": rule.title, "level": level, "value": value,
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
    text = (f"{plural(len(firing), 'alert')} firing: " + ", ".join(f"{r['title']} ({r['level']})" for r in firing)
            if firing else "No alert is firing.")
    return Reply("alerts", context, text)


# Buttons on an alert message. The value is "<rule>|<episode>": a click on the message of
# an episode that is over (or on a reply from an older busbot) changes nothing.

def _note(text: PhraseLike) -> Reply:
    return Reply("alert_note", {"text": phrase(text)}, plain(text), shareable=False)


def _target(call: ActionCall) -> tuple[str, int | None]:
    rule_id, _, episode = call.value.partition("|")
    return rule_id, int(episode) if episode.isdigit() else None


NO_RULE = phrase("That button names no alert busbot knows, so nothing changed; ", code("/bus alerts"),
                 " shows the current rules.")


def _human_change(call: ActionCall, apply, thread_text: PhraseLike, done: str, already=None) -> Reply:
    """Change a firing episode's state (acknowledge, snooze) and tell its thread, once.
    `already(st)`: a sentence when the change was made before (a double click), else None."""
    rule_id, episode = _target(call)
    try:
        rule = rule_for(call.bus.settings, rule_id)
    except KeyError:  # an empty or made-up value, or a rule an upgrade removed
        return _note(NO_RULE)
    now = call.bus.clock()
    before: list[PhraseLike] = []

    def change(st):
        if not st.firing or st.episode != episode:
            return None
        if already and already(st):
            before.append(already(st))
            return None
        apply(st, now)
        return st, note_delivery(rule, st, thread_text, now)

    if state.update(call.bus, rule_id, change) is None:
        return _note(before[-1] if before else "That alert is no longer firing; nothing to do.")
    return _note(done)


@action("alert_ack")
def _acknowledge(call: ActionCall) -> Reply:
    def apply(st, now):
        st.acked_by, st.acked_ms = call.user_id, now
    def already(st):
        if not st.acked_by:
            return None
        return phrase(person(st.acked_by), " already acknowledged this alert; nothing changed.")
    return _human_change(call, apply, phrase(symbol("acked"), " Acknowledged by ", person(call.user_id),
                                             "; no more reminders for this episode."),
                         "Acknowledged: reminders stop for this episode.", already)


def _snooze(call: ActionCall, hours: int) -> Reply:
    def apply(st, now):
        st.snoozed_until, st.snoozed_by = now + hours * 3_600_000, call.user_id
    return _human_change(call, apply, phrase(symbol("snoozed"), f" Reminders snoozed for {hours} h by ",
                                             person(call.user_id), "."),
                         f"Snoozed: no reminders for {hours} h (escalations still post).")


@action("alert_snooze_1h")
def _snooze_1h(call: ActionCall) -> Reply:
    return _snooze(call, 1)


@action("alert_snooze_4h")
def _snooze_4h(call: ActionCall) -> Reply:
    return _snooze(call, 4)


@action("alert_dlq_top")
def _dlq_top(call: ActionCall) -> Reply:
    """Post `/bus dlq top` in the alert's thread, for everyone looking at the alert."""
    rule_id, episode = _target(call)
    try:
        rule_for(call.bus.settings, rule_id)
    except KeyError:  # nothing to post under: no thread would ever take it
        return _note(NO_RULE)
    if episode is None:
        return _note(NO_RULE)
    message = render_reply(dlq_top_reply(call.bus))
    message["blocks"] = [b for b in message["blocks"] if b.get("type") != "actions"]  # no Share/paging here
    outbox.enqueue(call.bus, rule_id, [{"rule": rule_id, "episode": episode, "kind": "thread",
                                        "created_ms": call.bus.clock(), "message": message}])
    return _note("Posting the top DLQ types in the alert's thread.")


@action("alert_reprocess", operator_only="reprocess DLQ entries")  # refused before any DLQ read
def _reprocess(call: ActionCall) -> Reply:
    """Open the guarded reprocess flow (preview, confirm, approval) for the DLQ's most
    frequent event type; other types: `/bus reprocess type=T`."""
    top = dlq_top(call.bus, 5)
    types = [row.key for row in top.by_type if not row.key.startswith("<")]
    if not types:
        return _note("The DLQ holds no entry with a readable type, so there is nothing to reprocess by type.")
    return preview_reprocess(call.bus, call.user_id, type=types[0])
