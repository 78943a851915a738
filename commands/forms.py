"""Forms: `/bus replay` and `/bus reprocess` with no arguments, the "Replay…" and
"Reprocess…" buttons, and `dlq edit <id>`.

A command that wants a form answers with a reply whose context holds `form` (what the form
shows: its kind and data read from the bus) beside a message for surfaces that cannot show a
form (the console shows the message: the usage). A front end that has forms (Slack's modals)
opens the form instead of posting the message. What a submitted form does is a command
(`form_command` turns the values into command text), so it runs the usual preview ->
confirm -> approval -> job flow with the usual checks.
"""
from __future__ import annotations

import shlex
from collections import Counter
from typing import Any

from bot.bus import Bus
from bot.phrase import PhraseLike, code, phrase
from bot.services.dlq_top import dlq_top
from bot.services.scan import walk
from bot.timeparse import iso_ms
from commands.actions import ActionCall, action
from commands.guard import notice
from commands.registry import REGISTRY
from commands.reply import Reply

FORM_ACTION = "bus_form"  # a button whose value is the kind of form it opens
KINDS = {"replay": "Replay…", "reprocess": "Reprocess…"}
NEEDS = {"reprocess": phrase(code("reprocess"), " needs an id, ", code("type=T"), " or ", code("all")),
         "replay": phrase(code("replay"), " needs ", code("from=WHEN"), " (and ", code("to=WHEN"),
                          "; it defaults to now)")}
FORMS_ELSEWHERE = " here; in Slack, the command alone opens a form."
MAX_TYPES = 100  # options of a multi-select
RECENT_EVENTS = 2_000  # newest main-stream entries read for the types a replay form offers


def form_button(kind: str) -> dict:
    return {"text": KINDS[kind], "action_id": FORM_ACTION, "value": kind}


def form_reply(form: dict[str, Any], message: PhraseLike, hint: PhraseLike = None) -> Reply:
    """A form where forms exist; `message` and `hint` (the usage) everywhere else."""
    reply = notice(message, hint, "info")
    reply.context["form"] = form
    return reply


def types_seen(bus: Bus, kind: str) -> list[str]:
    """Event types to offer: the DLQ's (most first) for reprocess; for replay the main
    stream's newest entries' types, then the DLQ's."""
    found: Counter[str] = Counter()
    if kind == "replay":
        for e in walk(bus.r, bus.keys.events, limit=RECENT_EVENTS):
            found[e.type] += 1
    dlq = [r.key for r in dlq_top(bus, MAX_TYPES).by_type]
    out = [t for t, _ in found.most_common()] + [t for t in dlq if t not in found]
    return [t for t in out if not t.startswith("<")][:MAX_TYPES]  # not <malformed>, <unknown>


def open_form(bus: Bus, kind: str) -> Reply:
    """The replay or reprocess form (its usage on surfaces without forms)."""
    usage = REGISTRY.match([kind])[0]
    hint = phrase("Usage: ", code(f"/bus {usage.usage}")) if usage else None
    return form_reply({"kind": kind, "types": types_seen(bus, kind)}, phrase(NEEDS[kind], FORMS_ELSEWHERE), hint)


@action(FORM_ACTION, operator_only="open the replay and reprocess forms")
def _form(call: ActionCall) -> Reply:
    return open_form(call.bus, call.value if call.value in KINDS else "reprocess")


def _when(ms: int | None) -> str | None:
    return iso_ms(ms) if ms is not None else None


def form_command(kind: str, values: dict[str, Any]) -> str:
    """Command text for a submitted replay or reprocess form: `values` hold `since`/`until`
    (or `from`/`to`) in epoch ms, `types` (list), `tenant`, `error`, `limit`, `rate`."""
    types = ",".join(values.get("types") or [])
    if kind == "replay":
        pairs = [("from", _when(values.get("from"))), ("to", _when(values.get("to"))), ("types", types),
                 ("tenant", values.get("tenant")), ("limit", values.get("limit")), ("rate", values.get("rate"))]
    else:
        pairs = [("type", types), ("tenant", values.get("tenant")), ("error", values.get("error")),
                 ("since", _when(values.get("since"))), ("until", _when(values.get("until")))]
    args = " ".join(f"{k}={shlex.quote(str(v))}" for k, v in pairs if v not in (None, ""))
    return f"{kind} {args or 'all'}" if kind == "reprocess" else f"{kind} {args}".strip()
