"""`/bus alerts`: every alert rule's state, its thresholds and when the bus was last checked."""
from __future__ import annotations

from bot.actions import audit
from bot.alerts import outbox, silences, state
from bot.alerts.overview import last_check_ms, rule_statuses
from bot.alerts.rules import rule_for
from bot.alerts.silences import Silence
from bot.alerts.view import note_delivery, value_text
from bot.phrase import PhraseLike, code, person, phrase, plain, symbol
from bot.plural import plural
from bot.render import render_reply
from bot.services.dlq_top import dlq_top
from bot.timeparse import iso_ms
from commands.actions import ActionCall, action
from commands.dlq import dlq_top_reply
from commands.invocation import Invocation
from commands.registry import REGISTRY
from commands.reply import Reply
from commands.reprocess import preview_reprocess


def _row(status, active: list[Silence], now: int) -> dict:
    rule, st = status.rule, status.state
    level = "unknown" if st.value is None and not st.firing else st.level
    value = value_text(rule, st.value) if st.checked_ms else "not checked yet"
    silence = silences.matching(active, rule.id, st.level, now) if st.firing else None
    marked = {"id": silence.id, "by": silence.created_by, "until_ms": silence.expires_ms,
              "reason": silence.reason} if silence else None
    return {"silence": marked, "id": rule.id, "title": rule.title, "level": level, "value": value,
            "note": st.note, "bounds": rule.bounds(),
            "since_ms": st.since if st.firing else None, "acked_by": st.acked_by,
            "snoozed_until": st.snoozed_until, "last_transition": st.last_transition,
            "last_transition_ms": st.last_transition_ms}


@REGISTRY.command("alerts", "Alert rules: state, thresholds, last check.")
def alerts_command(inv: Invocation) -> Reply:
    bus, now = inv.bus, inv.bus.clock()
    active = silences.active(bus, now)
    rows = [_row(s, active, now) for s in rule_statuses(bus)]
    firing = [r for r in rows if r["level"] in ("warning", "critical")]
    s = bus.settings
    context = {"rows": rows, "now": now, "last_check_ms": last_check_ms(bus),
               "channel": s.bus_alert_channel, "critical_channel": s.bus_alert_channel_critical,
               "environment": s.bus_environment_name, "silences": len(active),
               "interval": s.bus_check_interval, "hold": s.bus_alert_for, "repeat": s.bus_alert_repeat}
    text = (f"{plural(len(firing), 'alert')} firing: "
            + ", ".join(f"{r['title']} ({r['level']}{', silenced' if r['silence'] else ''})" for r in firing)
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
        return st, note_delivery(rule, st, thread_text, now, settings=call.bus.settings)

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


SILENCE_HOURS = 2


@action("alert_silence_2h", operator_only="silence alerts")
def _silence_2h(call: ActionCall) -> Reply:
    """Silence this alert (its rule and group, any severity) for 2 h: nothing more is posted
    about it; `/bus alerts` still shows it, marked silenced."""
    rule_id, episode = _target(call)
    try:
        rule_for(call.bus.settings, rule_id)
    except KeyError:
        return _note(NO_RULE)
    kind, _, group = rule_id.partition(":")
    if kind not in silences.RULE_KINDS:
        return _note("This alert cannot be silenced, so nothing changed.")
    now = call.bus.clock()
    st, _ = state.load(call.bus, rule_id)
    if not st.firing or st.episode != episode:
        return _note("That alert is no longer firing; nothing to do.")
    already = silences.matching(silences.active(call.bus, now), rule_id, st.level, now)
    if already is not None:  # a double click, or a silence made with `/bus silence`
        return _note(phrase("This alert is already silenced by ", person(already.created_by), " until ",
                            iso_ms(already.expires_ms), "; nothing changed."))
    silence = silences.create(call.bus, created_by=call.user_id, now=now, duration_ms=SILENCE_HOURS * 3_600_000,
                              rule=kind, group=group or None, reason="from the alert's button")
    audit.record(call.bus, call.user_id, "silence.create", silence.matchers,
                 f"silence {silence.id} for {SILENCE_HOURS}h")

    def apply(st, now):
        st.silence_id, st.silenced_by, st.silenced_until = silence.id, silence.created_by, silence.expires_ms
    _human_change(call, apply, phrase(symbol("silenced"), f" Silenced for {SILENCE_HOURS} h by ",
                                      person(call.user_id), ": nothing more is posted about this alert until then."),
                  "")
    return _note(phrase(f"Silenced for {SILENCE_HOURS} h: nothing is posted about this alert until then; ",
                        code("/bus silences"), " lists silences, with a button to end one early."))


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
