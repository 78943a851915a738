"""Forms as Slack modals: opening them (`views.open` with the click's or command's
`trigger_id`), checking what was submitted (errors go back on the field, `response_action:
errors`), and running it: the same command a person could type, whose preview is posted
privately to the submitter in the channel the form was opened from (or in a direct message).

The form's content is the command's view model (`reply.context["form"]`, see commands/forms.py);
its layout is `templates/modal_<kind>.json.j2`.
"""
from __future__ import annotations

import json
import logging
from typing import Any

from slack_sdk import WebClient

from bot.render import environment, render_reply, strip_trailing_commas
from bot.runtime import Runtime
from bot.slack.message import for_slack
from commands import router
from commands.edit import EDIT_SUBMIT, EditRefused, check_edit
from commands.forms import form_command
from commands.reply import Reply

log = logging.getLogger(__name__)

CALLBACKS = {"bus_replay_form": "replay", "bus_reprocess_form": "reprocess", "bus_edit_form": "edit"}
MAX_LIMIT = 1_000_000
MAX_RATE = 100_000


def form_view(form: dict[str, Any], channel: str) -> dict:
    """The modal for a reply's `form` (kind replay, reprocess or edit)."""
    meta: dict[str, Any] = {"channel": channel, **{k: form[k] for k in ("entry", "type", "env") if k in form}}
    context = {**form, "types": form.get("types", []), "meta": json.dumps(meta)}
    out = environment().get_template(f"modal_{form['kind']}.json.j2").render(**context)
    return json.loads(strip_trailing_commas(out))


def open_form(client: WebClient, trigger_id: str, form: dict[str, Any], channel: str) -> None:
    client.views_open(trigger_id=trigger_id, view=form_view(form, channel))


def values(view: dict) -> dict[str, Any]:
    """block_id -> the submitted value (None when empty), whatever the element type."""
    out: dict[str, Any] = {}
    for block_id, actions in (view.get("state") or {}).get("values", {}).items():
        for v in actions.values():
            kind = v.get("type")
            if kind == "datetimepicker":
                out[block_id] = v.get("selected_date_time")
            elif kind == "multi_static_select":
                out[block_id] = [o["value"] for o in v.get("selected_options") or []]
            elif kind == "checkboxes":
                out[block_id] = bool(v.get("selected_options"))
            else:
                value = v.get("value")
                out[block_id] = value.strip() if isinstance(value, str) and value.strip() else None
    return out


def metadata(view: dict) -> dict[str, Any]:
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        meta = {}
    return meta if isinstance(meta, dict) else {}


def _number(raw: Any, lo: int, hi: int) -> int | None:
    if raw is None:
        return None
    text = str(raw).strip()
    if not (text.isascii() and text.isdigit()) or not lo <= int(text) <= hi:
        raise ValueError(f"A whole number from {lo:,} to {hi:,}.")
    return int(text)


def check(kind: str, view: dict, now_ms: int) -> tuple[dict[str, str], dict[str, Any]]:
    """(errors by block id, the cleaned values); errors empty when the form is fine."""
    v = values(view)
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    if kind == "edit":
        try:
            check_edit(v.get("event") or "", str(metadata(view).get("type", "")), bool(v.get("type_change")))
        except EditRefused as exc:
            errors["event"] = str(exc)
        return errors, {"event": v.get("event") or "", "type_change": bool(v.get("type_change"))}
    start, end = ("from", "to") if kind == "replay" else ("since", "until")
    times: dict[str, int | None] = {}
    for name in (start, end):
        seconds = v.get(name)
        at = times[name] = int(seconds) * 1000 if seconds is not None else None
        if at is not None and at > now_ms + 60_000:
            errors[name] = "This is in the future; pick a time up to now."
    begin, finish = times[start], times[end]
    if kind == "replay" and begin is None:
        errors[start] = "Pick where the replay starts."
    if begin is not None and finish is not None and begin > finish:
        errors[end] = "This is before the start; pick a later time."
    out.update(times)
    types = v.get("types")
    out["types"] = types if isinstance(types, list) else [t.strip() for t in (types or "").split(",") if t.strip()]
    out["tenant"] = v.get("tenant")
    if kind == "reprocess":
        out["error"] = v.get("error")
    else:
        for name, hi in (("limit", MAX_LIMIT), ("rate", MAX_RATE)):
            try:
                out[name] = _number(v.get(name), 1, hi)
            except ValueError as exc:
                errors[name] = str(exc)
    return errors, out


def submitted(kind: str, view: dict, values_: dict[str, Any], rt: Runtime, user: str) -> Reply:
    """What a submitted (and checked) form does: the command's preview."""
    env = metadata(view).get("env")  # the environment the form was opened in, if several
    bound = f"@{env} " if env else ""
    if kind == "edit":
        value = json.dumps({"entry": metadata(view).get("entry", ""), **values_})
        return router.run_action(EDIT_SUBMIT, bound + value, rt, user, metadata(view).get("channel") or None)
    return router.run(bound + form_command(kind, values_), rt, user)


def post_privately(client: WebClient, channel: str, user: str, reply: Reply) -> None:
    """The answer to a form, for the submitter only: ephemeral in the form's channel, else a DM."""
    message = for_slack(reply, render_reply(reply))
    message.pop("response_type", None)
    if channel:
        try:
            client.chat_postEphemeral(channel=channel, user=user, **message)
            return
        except Exception:  # noqa: BLE001 - not in that channel (or no longer): a direct message instead
            log.warning("could not answer the form in %s; sending a direct message", channel)
    client.chat_postMessage(channel=user, **message)
