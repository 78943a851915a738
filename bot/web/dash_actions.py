"""The dashboard's forms (POST): each one an operator's, each through the guarded core
(bot/web/dash_flow.py): preview page -> Confirm -> approval where the policy asks -> job."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import redirect, request, url_for
from flask.typing import ResponseReturnValue

from bot.actions import requests
from bot.timeparse import WhenError, parse_when
from bot.web import dash_flow
from bot.web.dash_filter import clean_query
from bot.web.dash_flow import FlowError, ReplayForm
from bot.web.dash_pages import types_seen
from bot.web.dashboard import bp, dash, is_approver, is_operator, me, notice, page, refuse

MAX_LIMIT, MAX_RATE = 1_000_000, 100_000


def operator_only(what: str) -> Callable:
    """A viewer's POST (a forged form: viewers are shown no buttons) is refused and audited."""
    def wrap(fn: Callable[..., ResponseReturnValue]) -> Callable[..., ResponseReturnValue]:
        @wraps(fn)
        def guarded(*args, **kwargs) -> ResponseReturnValue:
            if not is_operator():
                return refuse(what, "not an operator")
            return fn(*args, **kwargs)
        return guarded
    return wrap


def _to(endpoint: str, **values: Any) -> ResponseReturnValue:
    return redirect(url_for(endpoint, **values), code=303)


@bp.post("/events/dlq/selected")
@operator_only("reprocess or delete DLQ entries")
def dlq_selected() -> ResponseReturnValue:
    action = request.form.get("action", "")
    if action not in ("reprocess", "delete"):
        notice("The form named no action, so nothing was done.", "Press Reprocess Selected or Delete Selected.", "warn")
        return _to("dashboard.dlq")
    try:
        req = dash_flow.preview_selected(dash().rt, me().user, action, request.form.getlist("ids"))
    except FlowError as exc:
        notice(exc.message, exc.hint, "warn")
        back = clean_query(request.form.get("back", ""))  # the list's filter, as it was
        url = url_for("dashboard.dlq")  # may carry ?env= already
        return redirect(url + (("&" if "?" in url else "?") + back if back else ""), code=303)
    return _to("dashboard.request_page", token=req.token)


@bp.post("/events/replay")
@operator_only("replay events")
def replay_post() -> ResponseReturnValue:
    rt, f = dash().rt, request.form
    try:
        form = _replay_form(f, rt.bus.clock())
        req = dash_flow.preview_replay(rt, me().user, form)
    except (FlowError, ValueError) as exc:
        message = exc.message if isinstance(exc, FlowError) else str(exc)
        hint = exc.hint if isinstance(exc, FlowError) else None
        return page("replay.html", 400, tab="replay", types=types_seen(rt.bus), default_start=f.get("start", ""),
                    default_end=f.get("end", ""), error={"message": message, "hint": hint}, form=f,
                    selected=f.getlist("types"))
    return _to("dashboard.request_page", token=req.token)


def _replay_form(f, now: int) -> ReplayForm:
    try:
        start = parse_when(f.get("start") or "", now)
        end = parse_when(f.get("end") or "", now) if (f.get("end") or "").strip() else now
    except WhenError as exc:
        raise ValueError(str(exc).replace("`", "")) from None
    return ReplayForm(start_ms=start, end_ms=end, types=[t for t in f.getlist("types") if t],
                      tenant=(f.get("tenant") or "").strip() or None,
                      limit=_number(f.get("limit"), "limit", MAX_LIMIT) or None,
                      rate=_number(f.get("rate"), "rate", MAX_RATE))


def _number(raw: str | None, name: str, most: int) -> int:
    text = (raw or "").strip()
    if not text:
        return 0
    if not text.isdigit() or not 1 <= int(text) <= most:
        raise ValueError(f"{name} must be a whole number from 1 to {most:,} (or empty).")
    return int(text)


@bp.post("/events/requests/<token>/<button>")
def request_button(token: str, button: str) -> ResponseReturnValue:
    if button not in dash_flow.BUTTONS:
        return _to("dashboard.request_page", token=token)
    if button in ("approve", "reject"):  # approvers approve, whether or not they are operators
        if not is_approver():
            return refuse(f"{button} guarded actions", "not an approver")
    elif not is_operator():  # viewers never make requests, so they have none to cancel either
        return refuse(f"{button} guarded actions", "not an operator")
    req = requests.get(dash().rt.bus, token)
    if button in ("confirm", "cancel") and req is not None and req.requester != me().user:
        return refuse(f"{button} another operator's preview", "not the requester")
    out = dash_flow.click(dash().rt, button, token, me().user)
    notice(out.message, out.hint)
    if out.request is not None and out.request.job_id:
        return _to("dashboard.job", job_id=out.request.job_id)
    return _to("dashboard.request_page", token=token)


@bp.post("/events/jobs/<job_id>/cancel")
@operator_only("cancel jobs")
def job_cancel(job_id: str) -> ResponseReturnValue:
    out = dash_flow.cancel_job(dash().rt, job_id, me().user)
    notice(out.message, out.hint)
    return _to("dashboard.job", job_id=job_id)
