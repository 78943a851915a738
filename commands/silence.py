"""`/bus silence ...` and `/bus silences`: alerts that post nothing for a while.

A silence names what it matches (`rule=`, `group=`, `severity=`; at least one), how long it
lasts (`for=2h`, default 2 h, at most 7 days) and why (`reason=`). Matching alerts keep
their state and still show in `/bus alerts`, marked silenced; only their Slack messages are
held back. Creating and ending a silence is audited.
"""
from __future__ import annotations

import difflib

from bot.actions import audit
from bot.alerts import silences
from bot.alerts.silences import GROUP_KINDS, MAX_MS, RULE_KINDS, Silence
from bot.phrase import PhraseLike, code, join, person, phrase, plain
from bot.plural import plural
from bot.timeparse import human_age
from commands.actions import ActionCall, action
from commands.guard import notice
from commands.invocation import Invocation
from commands.registry import REGISTRY
from commands.reply import CommandError, Reply

DEFAULT_MS = 2 * 3_600_000
LIST = 20
EXPIRE_ACTION = "silence_expire"
SEVERITIES = ("warning", "critical")


def _rule(inv: Invocation) -> tuple[str | None, str | None]:
    """`rule=` as (rule kind, group): `lag`, `dlq_size`, or `lag:<group>` for both at once."""
    raw = inv.option("rule")
    group = inv.option("group")
    if raw is None:
        return None, group
    kind, colon, in_rule = raw.partition(":")
    kind = kind.lower()
    if kind == "redis":
        raise CommandError("The Redis-down alert cannot be silenced: while Redis is down busbot cannot read "
                           "the silences.", phrase("Acknowledge it on its message to stop its reminders."))
    if kind not in RULE_KINDS:
        near = difflib.get_close_matches(kind, RULE_KINDS, n=1, cutoff=0.5)
        hint = phrase(" Did you mean ", code(f"rule={near[0]}"), "?") if near else None
        raise inv.usage_error(phrase(code(f"rule={raw}"), " names no alert rule; it takes one of ",
                                     join([code(k) for k in RULE_KINDS]), ".", hint))
    if colon:
        if group is not None and group != in_rule:
            raise inv.usage_error(phrase(code(f"rule={raw}"), " and ", code(f"group={group}"),
                                         " name two different groups."))
        group = in_rule or None
    if group is not None and kind not in GROUP_KINDS:
        raise inv.usage_error(phrase(code(f"rule={kind}"), " is not a rule per consumer group, so ",
                                     code("group="), " cannot go with it (",
                                     join([code(f"rule={k}") for k in GROUP_KINDS]), " can)."))
    return kind, group


def _duration(inv: Invocation) -> int:
    raw = inv.option("for")
    if raw is None:
        return DEFAULT_MS
    ms = silences.parse_duration(raw)
    if not ms:
        raise inv.usage_error(phrase(code(f"for={raw}"), " is not a duration; write it like ",
                                     code("for=2h"), ", ", code("for=30m"), " or ", code("for=1d"), "."))
    if ms > MAX_MS:
        raise inv.usage_error(f"A silence lasts at most {human_age(MAX_MS)}, not {human_age(ms)}.")
    return ms


@REGISTRY.command("silence", "Silence matching alerts for a while: rule=, group=, severity=, for=2h, reason=.",
                  options=("rule", "group", "severity", "for", "reason"), max_positional=40,
                  role="operator", group="Actions")
def silence_command(inv: Invocation) -> Reply:
    kind, group = _rule(inv)
    severity = inv.option("severity")
    if severity is not None and severity.lower() not in SEVERITIES:
        raise inv.usage_error(phrase(code(f"severity={severity}"), " takes ", code("warning"), " or ",
                                     code("critical"), "."))
    if inv.args.positional and inv.option("reason") is None:
        raise inv.usage_error(phrase(code("silence"), " does not take ", code(inv.args.positional[0]),
                                     " here; put the why after ", code("reason="), "."))
    reason = " ".join([inv.option("reason") or "", *inv.args.positional]).strip()
    if kind is None and group is None and severity is None:
        raise inv.usage_error(phrase("A silence needs at least one of ", code("rule="), ", ", code("group="),
                                     " or ", code("severity="), ", so that it never hides every alert."))
    duration = _duration(inv)
    bus, now = inv.bus, inv.bus.clock()
    silence = silences.create(bus, created_by=inv.user_id, now=now, duration_ms=duration, rule=kind,
                              group=group, severity=severity.lower() if severity else None,  # type: ignore[arg-type]
                              reason=reason)
    audit.record(bus, inv.user_id, "silence.create", inv.text, f"silence {silence.id} for {human_age(duration)}")
    return notice(phrase("Silenced ", code(silence.matchers), f" for {human_age(duration)}: matching alerts "
                         "post nothing until then and still show in ", code("/bus alerts"), "."),
                  phrase(code("/bus silences"), " lists the silences, with a button to end one early."),
                  "silenced", [_expire_button(silence)], in_channel=True)


def _expire_button(s: Silence) -> dict:
    return {"text": "Expire now", "action_id": EXPIRE_ACTION, "value": s.id, "style": "danger",
            "confirm": {"title": "End this silence?", "text": f"Alerts matching {s.matchers} post again "
                        "from the next check.", "confirm": "Expire now", "deny": "Back"}}


def silences_reply(bus, message: PhraseLike = None) -> Reply:
    now = bus.clock()
    kept = silences.load(bus)
    active = [s for s in kept if s.active(now)]
    rows = [{"id": s.id, "matchers": s.matchers, "by": person(s.created_by), "reason": s.reason,
             "until_ms": s.expires_ms, "left": human_age(s.expires_ms - now),
             "button": _expire_button(s)} for s in active[:LIST]]
    ended = [{"matchers": s.matchers, "by": person(s.expired_by) if s.expired_by else None,
              "ago": human_age(now - s.expires_ms)} for s in kept if not s.active(now)][:5]
    text = f"{plural(len(active), 'active silence')}" if active else "No silence is active."
    return Reply("silences", {"rows": rows, "more": max(0, len(active) - LIST), "ended": ended,
                              "message": phrase(message) if message else None, "now": now}, text,
                 command="silences")


@REGISTRY.command("silences", "Active alert silences: what they match, who, why, until when.")
def silences_command(inv: Invocation) -> Reply:
    return silences_reply(inv.bus)


@action(EXPIRE_ACTION, operator_only="end alert silences")
def _expire(call: ActionCall) -> Reply:
    bus, now = call.bus, call.bus.clock()
    silence, ended = silences.expire(bus, call.value, call.user_id, now)
    if silence is None:
        message: PhraseLike = "busbot no longer knows that silence (it ended more than a day ago); nothing changed."
    elif not ended:
        message = phrase("The silence of ", code(silence.matchers), " had already ended; nothing changed.")
    else:
        audit.record(bus, call.user_id, "silence.expire", silence.matchers, f"silence {silence.id} ended early")
        message = phrase("Ended the silence of ", code(silence.matchers),
                         ": matching alerts post again from the next check.")
    reply = silences_reply(bus, message)
    reply.replaces, reply.shareable = True, False
    reply.text = plain(message)
    return reply
