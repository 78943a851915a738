"""`/bus dlq edit <id>` and "Edit and retry": fix a DLQ entry's event, then retry it.

The form holds the event JSON; the submitted text is checked (JSON, the envelope fields, the
`type` unchanged unless the operator says it changes), the preview shows the diff, and a
second operator ALWAYS approves. Then, in one step: the original entry is archived with every
field (`dlq restore <job>` puts it back), the edited event goes to the main stream (`event`
first, then `editedFrom=<dlq id>`, `editJob=<job id>`), the entry leaves the DLQ, and the
audit records the event before and after.
"""
from __future__ import annotations

import difflib
import json
from typing import Any, cast

from bot.actions import archive, audit
from bot.actions.requests import GuardedRequest
from bot.bus import Bus
from bot.jobs import store
from bot.keys import same_slot
from bot.phrase import code, fact, phrase
from bot.timeparse import parse_iso_ms
from commands.actions import ActionCall, action
from commands.forms import form_reply
from commands.guard import EXECUTORS, check_source_free, notice, preview_reply, require_operator
from commands.invocation import Invocation
from commands.registry import REGISTRY
from commands.reply import CommandError, Reply
from commands.selection_view import entry_or_error

EDIT_ACTION = "bus_edit"  # "Edit and retry": its value is the DLQ entry's stream id
EDIT_SUBMIT = "bus_edit_submit"  # a submitted edit form: JSON {entry, event, type_change}
KIND = "edit"
MAX_FORM_TEXT = 3000  # what a Slack form's text input holds
REQUIRED = ("id", "type", "source", "timestamp")
DIFF_LINES = 60


def edit_button(entry_id: str) -> dict:
    return {"text": "Edit and retry", "action_id": EDIT_ACTION, "value": entry_id}


class EditRefused(ValueError):
    """The submitted text cannot be retried; the message says why and what to change."""


def pretty(event: Any) -> str:
    return json.dumps(event, indent=2, ensure_ascii=False)


def edit_form(bus: Bus, user_id: str, ident: str) -> Reply:
    refused = require_operator(bus, user_id, "edit DLQ entries")
    if refused:
        return refused
    e = entry_or_error(bus, bus.keys.dlq, ident)
    if e.event is None:
        raise CommandError(phrase("DLQ entry ", code(e.entry_id), " holds no readable event JSON, so there is "
                                  "nothing to edit."),
                           phrase(code(f"/bus dlq delete {e.entry_id}"), " removes it."))
    text = pretty(e.event)
    if len(text) > MAX_FORM_TEXT:
        raise CommandError(f"This event is {len(text):,} characters, more than a form can hold ({MAX_FORM_TEXT:,}).",
                           phrase("Fix it at its source and publish it again, or reprocess it as it is: ",
                                  code(f"/bus reprocess {e.entry_id}"), "."))
    return form_reply({"kind": KIND, "entry": e.entry_id, "type": e.type, "json": text},
                      phrase("Editing an event opens a form in Slack; the console cannot show it."),
                      phrase("Use ", code(f"/bus dlq edit {e.entry_id}"), " in Slack, or reprocess it as it is: ",
                             code(f"/bus reprocess {e.entry_id}"), "."))


@REGISTRY.command("dlq edit <id>", "Fix a DLQ entry's event in a form, then retry it (diff; approval).",
                  max_positional=1, role="operator", group="Actions")
def edit_command(inv: Invocation) -> Reply:
    return edit_form(inv.bus, inv.user_id, inv.required(0, "the id of a DLQ entry"))


@action(EDIT_ACTION, operator_only="edit DLQ entries")
def _edit(call: ActionCall) -> Reply:
    return edit_form(call.bus, call.user_id, call.value)


@action(EDIT_SUBMIT, operator_only="edit DLQ entries")
def _submitted(call: ActionCall) -> Reply:
    try:
        form = json.loads(call.value)
        entry, text, type_change = str(form["entry"]), str(form["event"]), bool(form.get("type_change"))
    except (ValueError, KeyError, TypeError):
        raise CommandError("That form could not be read, so nothing was previewed.",
                           phrase("Open it again: ", code("/bus dlq edit <id>"), ".")) from None
    return preview_edit(call.bus, call.user_id, entry, text, type_change)


def check_edit(text: str, original_type: str, type_change: bool) -> dict[str, Any]:
    """The edited event, or EditRefused with one sentence about what to fix."""
    try:
        event = json.loads(text)
    except json.JSONDecodeError as exc:
        raise EditRefused(f"This is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}).") from None
    if not isinstance(event, dict):
        raise EditRefused("The event must be a JSON object ({ ... }).")
    missing = [f for f in REQUIRED if not isinstance(event.get(f), str) or not event[f].strip()]
    if missing:
        raise EditRefused(f"The envelope needs {', '.join(missing)} as non-empty text.")
    if parse_iso_ms(event["timestamp"]) is None:
        raise EditRefused("timestamp must be ISO-8601, like 2025-12-05T10:30:00.000Z.")
    if "data" in event and not isinstance(event["data"], dict):
        raise EditRefused("data must be a JSON object.")
    if "tenantId" in event and not isinstance(event["tenantId"], str):
        raise EditRefused("tenantId must be text.")
    if event["type"] != original_type and not type_change:
        raise EditRefused(f"The type changed from {original_type} to {event['type']}; tick "
                          "\u201cthe type changes\u201d if that is meant.")
    return event


_MISSING = object()


def unmasked(edited: Any, shown: Any, raw: Any) -> Any:
    """The edited event with every value the form showed masked and the operator left as it
    was put back to its real value (masking never reaches the bus; replaced values are kept)."""
    if edited == shown:
        return raw
    if isinstance(edited, dict) and isinstance(shown, dict) and isinstance(raw, dict):
        return {k: unmasked(v, shown.get(k, _MISSING), raw.get(k, _MISSING)) if k in shown and k in raw else v
                for k, v in edited.items()}
    if isinstance(edited, list) and isinstance(shown, list) and isinstance(raw, list) \
            and len(edited) == len(shown) == len(raw):
        return [unmasked(e, s, r) for e, s, r in zip(edited, shown, raw)]
    return edited


def raw_event(bus: Bus, entry_id: str) -> tuple[str, dict[str, Any]] | None:
    """The DLQ entry's `event` as stored (text and parsed object), never masked."""
    rows = cast("list[tuple[str, dict[str, str]]]", bus.r.xrange(bus.keys.dlq, entry_id, entry_id))
    text = rows[0][1].get("event") if rows else None
    try:
        event = json.loads(text) if text is not None else None
    except ValueError:
        return None
    return (text, event) if text is not None and isinstance(event, dict) else None


def diff_text(before: Any, after: Any) -> str:
    lines = list(difflib.unified_diff(pretty(before).splitlines(), pretty(after).splitlines(),
                                      "before", "after", lineterm="", n=1))[2:]
    more = len(lines) - DIFF_LINES
    return "\n".join(lines[:DIFF_LINES] + ([f"… {more} more lines"] if more > 0 else []))


def preview_edit(bus: Bus, user_id: str, entry_id: str, text: str, type_change: bool = False) -> Reply:
    """The preview of retrying an edited event (its Confirm sends it for approval)."""
    refused = require_operator(bus, user_id, "edit DLQ entries")
    if refused:
        return refused
    check_source_free(bus, bus.keys.dlq)
    e = entry_or_error(bus, bus.keys.dlq, entry_id)
    stored = raw_event(bus, e.entry_id)
    if e.event is None or stored is None:
        raise CommandError(phrase("DLQ entry ", code(e.entry_id), " holds no readable event JSON."),
                           phrase(code(f"/bus dlq delete {e.entry_id}"), " removes it."))
    try:
        shown_edit = check_edit(text, e.type, type_change)
    except EditRefused as exc:
        raise CommandError(str(exc), phrase("Run ", code(f"/bus dlq edit {e.entry_id}"), " again.")) from None
    original_text, original = stored
    edited = unmasked(shown_edit, e.event, original)
    if edited == original:
        raise CommandError("The event is unchanged, so there is nothing to retry as edited.",
                           phrase(code(f"/bus reprocess {e.entry_id}"), " retries it as it is."))
    compact = json.dumps(edited, separators=(",", ":"), ensure_ascii=False)
    req = GuardedRequest(token="", kind=KIND, command=f"dlq edit {e.entry_id}",
                         params={"ids": [e.entry_id], "event": compact, "original": original_text},
                         source=bus.keys.dlq, target=bus.keys.events, start=e.entry_id, upper=e.entry_id,
                         to_move=1, requester=user_id)
    summary = phrase("The edited ", code(shown_edit["type"]), " event ", code(shown_edit["id"]), " goes to ",
                     code(bus.keys.events), " (", code("event"), " first, then ", code("editedFrom"), ", ",
                     code("editJob"), "); the original is archived to ", code(bus.keys.dlq_archive),
                     " and leaves the DLQ.")
    facts = [fact("DLQ id", code(e.entry_id)), fact("Type", code(e.type), " → ", code(shown_edit["type"]))
             if shown_edit["type"] != e.type else fact("Type", code(e.type)), fact("Last error", e.error[:300] or "–")]
    return preview_reply(bus, req, title="Retry 1 edited DLQ entry", verb="Retry edited", summary=summary,
                         facts=facts, diff=diff_text(e.event, shown_edit),
                         notes=[phrase("A second operator always approves an edited event. ",
                                       code("/bus dlq restore <job>"), " puts the original back in the DLQ.")])


def run_edit(bus: Bus, req: GuardedRequest) -> Reply:
    """Archive the original, publish the edited event, remove the DLQ entry; nothing runs when
    the entry is gone or changed since the preview."""
    entry_id = req.params["ids"][0]
    job_id = store.new_job_id()
    archive.expire_old(bus)
    new_id = retry_edited(bus, entry_id, req.params["original"], req.params["event"], job_id)
    if new_id is None:
        audit.record(bus, req.approved_by, f"{KIND}.skipped", req.command, "entry gone or changed")
        return notice(phrase("DLQ entry ", code(entry_id), " is gone or changed since the preview, so nothing ran."),
                      phrase(code("/bus dlq show <id>"), " shows what the DLQ holds now."), "caution", replace=True)
    for what, key in (("original", "original"), ("edited", "event")):
        audit.record(bus, req.approved_by, f"{KIND}.{what}", req.command, masked_json(bus, req.params[key]), job_id)
    audit.record(bus, req.approved_by, f"{KIND}.done", req.command,
                 f"published {new_id}, requested by {req.requester}", job_id)
    return notice(phrase("Retried the edited event as ", code(new_id), " on ", code(bus.keys.events),
                         " (job ", code(job_id), "); the original is archived."),
                  phrase(code(f"/bus dlq restore {job_id}"), " puts the original back in the DLQ."), "completed",
                  replace=True)


def masked_json(bus: Bus, text: str) -> str:
    """An event's JSON as the audit keeps it: field rules and patterns applied (the archive
    keeps the original itself, for restore)."""
    try:
        event = json.loads(text)
    except ValueError:
        return text  # the patterns still apply in audit.record
    return json.dumps(bus.masker.event(event), ensure_ascii=False)


def retry_edited(bus: Bus, entry_id: str, original: str, edited: str, job_id: str) -> str | None:
    """The new main-stream id, or None when the entry is gone or its event changed. One script
    (bot/lua/edit_retry.lua) when the three streams share a slot (a single Redis, hash-tagged
    names); otherwise the same steps in the same order, so a failure part-way leaves the
    original archived and still in the DLQ: never lost, at worst archived twice."""
    keys = [bus.keys.dlq, bus.keys.dlq_archive, bus.keys.events]
    if not bus.cluster or same_slot(*keys):
        done, out = bus.scripts.get("edit_retry")(keys=keys, args=[entry_id, original, edited, job_id])
        return str(out) if done == 1 else None
    rows = cast("list[tuple[str, dict[str, str]]]", bus.r.xrange(keys[0], entry_id, entry_id))  # decoded
    if not rows or rows[0][1].get("event") != original:
        return None
    fields = rows[0][1]
    archived = {"event": original, **{k: v for k, v in fields.items()
                                      if k not in ("event", "archivedFrom", "archiveJob")},
                "archivedFrom": entry_id, "archiveJob": job_id}
    bus.r.xadd(keys[1], archived)  # type: ignore[arg-type]  # str -> str is a valid field map
    new_id = bus.r.xadd(keys[2], {"event": edited, "editedFrom": entry_id, "editJob": job_id})
    bus.r.xdel(keys[0], entry_id)
    return str(new_id)


EXECUTORS[KIND] = run_edit
