"""What the alert messages say: view models for templates/alert*.json.j2 and the outbox
deliveries (root post, root update, thread line) that each event causes."""
from __future__ import annotations

from bot.alerts.machine import AlertState, Event
from bot.alerts.rules import REDIS_RULE, Rule
from bot.phrase import PhraseLike
from bot.render import md
from bot.symbols import slack_emoji
from bot.timeparse import human_age

REPROCESS_RULES = frozenset({"dlq_size", "failed_per_hour"})  # messages that offer "Reprocess top type…"


def value_text(rule: Rule, value: float | None) -> str:
    if rule.id == REDIS_RULE:
        return "unreachable" if value else "reachable"
    return rule.fmt(value)


def root_view(rule: Rule, st: AlertState, trend: str = "") -> dict:
    """Everything the root message of the current (or just resolved) episode shows."""
    level = st.level
    shown = level if st.firing else "resolved"
    threshold = rule.threshold(level) if st.firing else rule.warn
    return {
        "rule": rule.id, "episode": st.episode, "title": rule.title, "level": shown,
        "emoji": slack_emoji(level if st.firing else "healthy"),
        "value": value_text(rule, st.value), "note": st.note,
        "threshold": "" if rule.id == REDIS_RULE else f"{level if st.firing else 'warning'} above {rule.fmt(threshold)}",
        "since_ms": st.since, "peak": value_text(rule, st.peak),
        "duration": human_age((st.resolved_ms or 0) - (st.since or 0)) if st.resolved_ms else None,
        "trend": trend, "action": rule.action, "runbook": rule.runbook,
        "acked_by": st.acked_by, "snoozed_until": st.snoozed_until,
        "reprocess": rule.id in REPROCESS_RULES,
        "buttons": rule.id != REDIS_RULE,  # its state is in one process's memory: nothing to click
    }


def thread_line(rule: Rule, st: AlertState, event: Event) -> str:
    """One mrkdwn line for the thread; the title is escaped (group names come from Redis)."""
    value, title = value_text(rule, st.value), md(rule.title)
    if event.kind == "fire":
        return f"{slack_emoji(event.after)} Fired ({event.after}): {title} is {value}."
    if event.kind == "escalate":
        return f"{slack_emoji(event.after)} Escalated to *{event.after}*: {title} is {value} (threshold {rule.fmt(rule.crit)})."
    if event.kind == "deescalate":
        return f"{slack_emoji(event.after)} De-escalated to *{event.after}*: {title} is {value}."
    if event.kind == "resolve":
        return (f"{slack_emoji('ok')} Resolved after {human_age(event.at_ms - (st.since or event.at_ms))}; "
                f"peak {value_text(rule, st.peak)}, now {value}.")
    return (f":alarm_clock: Reminder: still *{st.level}* since {human_age(event.at_ms - (st.since or event.at_ms))} ago, "
            f"{title} is {value}. Acknowledge to stop reminders.")


def deliveries(rule: Rule, st: AlertState, events: list[Event], trend: str, now: int) -> list[dict]:
    """Outbox items for the events of one check, oldest first."""
    out: list[dict] = []
    base = {"rule": rule.id, "episode": st.episode, "created_ms": now}
    for event in events:
        if event.kind == "fire":
            out.append({**base, "kind": "post", "view": root_view(rule, st, trend)})
            continue
        out.append({**base, "kind": "update", "view": root_view(rule, st, trend)})
        out.append({**base, "kind": "thread", "text": thread_line(rule, st, event)})
    return out


def note_delivery(rule: Rule, st: AlertState, text: PhraseLike, now: int, trend: str = "") -> list[dict]:
    """A human changed the alert (acknowledge, snooze): refresh the root, say so in the thread
    (`text` a phrase, bot.phrase)."""
    base = {"rule": rule.id, "episode": st.episode, "created_ms": now}
    return [{**base, "kind": "update", "view": root_view(rule, st, trend)},
            {**base, "kind": "thread", "text": text}]
