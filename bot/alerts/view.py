"""What the alert messages say: view models for templates/alert*.json.j2 and the outbox
deliveries (root post, root update, thread line) that each event causes."""
from __future__ import annotations

from bot.alerts.machine import AlertState, Event
from bot.alerts.rules import REDIS_RULE, Rule, rule_links
from bot.phrase import PhraseLike
from bot.render import md
from bot.settings import Settings
from bot.symbols import slack_emoji
from bot.timeparse import human_age

REPROCESS_RULES = frozenset({"dlq_size", "failed_per_hour"})  # messages that offer "Reprocess top type…"


def value_text(rule: Rule, value: float | None) -> str:
    if rule.id == REDIS_RULE:
        return "unreachable" if value else "reachable"
    return rule.fmt(value)


def channel_for(settings: Settings, level: str) -> str | None:
    """Where an alert at `level` goes: critical to BUS_ALERT_CHANNEL_CRITICAL when set,
    everything else (and critical without it) to BUS_ALERT_CHANNEL; None: not posted."""
    if level == "critical" and settings.bus_alert_channel_critical:
        return settings.bus_alert_channel_critical
    return settings.bus_alert_channel


def routed(settings: Settings) -> bool:
    """Does any alert go to Slack at all?"""
    return bool(settings.bus_alert_channel or settings.bus_alert_channel_critical)


def root_view(rule: Rule, st: AlertState, trend: str = "", settings: Settings | None = None) -> dict:
    """Everything the root message of the current (or just resolved) episode shows.
    `settings`: the environment's name, the mention on critical and the links."""
    level = st.level
    shown = level if st.firing else "resolved"
    threshold = rule.threshold(level) if st.firing else rule.warn
    extra: dict = {"environment": None, "mention": None, "runbook_url": None, "dashboard_url": None}
    if settings is not None:
        extra = {"environment": settings.bus_environment_name,
                 "mention": settings.bus_alert_mention if st.firing and level == "critical" else None,
                 **rule_links(rule, settings)}
    return {**extra,
        "rule": rule.id, "episode": st.episode, "title": rule.title, "level": shown,
        "emoji": slack_emoji(level if st.firing else "healthy"),
        "value": value_text(rule, st.value), "note": st.note,
        "threshold": ("" if rule.id == REDIS_RULE
                      else f"{level if st.firing else 'warning'} above {rule.fmt(threshold)}"),
        "since_ms": st.since, "peak": value_text(rule, st.peak),
        "duration": human_age((st.resolved_ms or 0) - (st.since or 0)) if st.resolved_ms else None,
        "trend": trend, "action": rule.action, "runbook": rule.runbook,
        "acked_by": st.acked_by, "snoozed_until": st.snoozed_until,
        "reprocess": rule.id in REPROCESS_RULES,
        "silenced_by": st.silenced_by, "silenced_until": st.silenced_until,
        "buttons": rule.id != REDIS_RULE,  # its state is in one process's memory: nothing to click
    }


def thread_line(rule: Rule, st: AlertState, event: Event) -> str:
    """One mrkdwn line for the thread; the title is escaped (group names come from Redis)."""
    value, title = value_text(rule, st.value), md(rule.title)
    if event.kind == "fire":
        return f"{slack_emoji(event.after)} Fired ({event.after}): {title} is {value}."
    if event.kind == "escalate":
        return (f"{slack_emoji(event.after)} Escalated to *{event.after}*: {title} is {value} "
                f"(threshold {rule.fmt(rule.crit)}).")
    if event.kind == "deescalate":
        return f"{slack_emoji(event.after)} De-escalated to *{event.after}*: {title} is {value}."
    if event.kind == "resolve":
        return (f"{slack_emoji('ok')} Resolved after {human_age(event.at_ms - (st.since or event.at_ms))}; "
                f"peak {value_text(rule, st.peak)}, now {value}.")
    since = human_age(event.at_ms - (st.since or event.at_ms))
    return (f":alarm_clock: Reminder: still *{st.level}* since {since} ago, "
            f"{title} is {value}. Acknowledge to stop reminders.")


def known_roots(st: AlertState, settings: Settings) -> list[str]:
    """`st.roots`, filled in for a state stored before roots were recorded."""
    if st.roots is None:
        st.roots = [settings.bus_alert_channel] if settings.bus_alert_channel and st.firing else []
    return st.roots


def root_post(rule: Rule, st: AlertState, trend: str, now: int, settings: Settings) -> dict | None:
    """A root message of the episode in the channel its level is routed to, unless one went
    there already (`st.roots`, which this adds to); None when there is nothing to post.
    The first root is the episode's main message; a later one (an escalation to a separate
    critical channel) is named after its level."""
    roots = known_roots(st, settings)
    channel = channel_for(settings, st.level) if st.firing else None
    if channel is None or channel in roots:
        return None
    root = st.level if roots else ""
    roots.append(channel)
    return {"rule": rule.id, "episode": st.episode, "created_ms": now, "kind": "post",
            "channel": channel, "root": root, "view": root_view(rule, st, trend, settings)}


def deliveries(rule: Rule, st: AlertState, events: list[Event], trend: str, now: int,
               settings: Settings) -> list[dict]:
    """Outbox items for the events of one check, oldest first. A fire posts the root in the
    channel of its level; an escalation to critical posts one more root in the critical
    channel when that is another channel; updates and thread lines follow the roots.
    Records the roots' channels in `st.roots`."""
    out: list[dict] = []
    base = {"rule": rule.id, "episode": st.episode, "created_ms": now}
    for event in events:
        post = root_post(rule, st, trend, now, settings) if event.kind in ("fire", "escalate") else None
        if post is not None:
            out.append(post)
        if event.kind == "fire" or not known_roots(st, settings) or (post is not None and not post["root"]):
            continue  # the episode's first root post says it all; with no root there is nothing to update
        out.append({**base, "kind": "update", "view": root_view(rule, st, trend, settings)})
        out.append({**base, "kind": "thread", "text": thread_line(rule, st, event)})
    return out


def note_delivery(rule: Rule, st: AlertState, text: PhraseLike, now: int, trend: str = "",
                  settings: Settings | None = None) -> list[dict]:
    """A human changed the alert (acknowledge, snooze, silence): refresh the root, say so in
    the thread (`text` a phrase, bot.phrase)."""
    base = {"rule": rule.id, "episode": st.episode, "created_ms": now}
    return [{**base, "kind": "update", "view": root_view(rule, st, trend, settings)},
            {**base, "kind": "thread", "text": text}]
