"""The admin API's writes, on the guarded core of `/bus`.

Each write is the flow a Slack user goes through, run for the API caller (`api:<name>`):
the same preview (selection counted, bounds fixed, request stored and audited), then the
very Confirm button handler (`dash_flow.click` -> `commands.router.run_action`), so the
policy, approvals, jobs and audit are one code path whichever front end is used. When the
policy asks for a second operator, the request waits (202, `approvalId`), and its approval
request is posted to the actions channel with the usual Approve / Reject buttons.

Outcomes are `Answer`s: an HTTP status and a body model; refusals are `ApiError`s.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from pydantic import BaseModel

from bot.actions import requests
from bot.actions.requests import GuardedRequest
from bot.actions.selection import BadId, resolve
from bot.jobs import store
from bot.jobs.model import Job
from bot.phrase import PhraseLike, plain
from bot.runtime import Runtime
from bot.timeparse import WhenError, parse_when
from bot.web import dash_flow
from bot.web.api_models import Accepted, GroupAnswer, Replay
from commands import router
from commands.reply import CommandError, Reply
from commands.reprocess import preview_reprocess


class ApiError(Exception):
    """An answer other than success: status, one sentence, what to do instead."""

    def __init__(self, status: int, message: PhraseLike, hint: PhraseLike = None):
        super().__init__(plain(message))
        self.status, self.message = status, plain(message)
        self.hint = plain(hint) if hint else None


@dataclass
class Answer:
    status: int
    body: BaseModel


def status_url(ident: str) -> str:
    return f"/events/replay/status/{ident}"


def source_free(rt: Runtime, stream: str) -> None:
    """One job per source stream: 409 naming the job that holds it."""
    job = dash_flow.active_job(rt.bus, stream)
    if job is not None:
        raise ApiError(409, f"Job {job.id} ({job.kind}) is still {job.status.lower()} on {stream}, and only "
                            "one job at a time may work on a stream.",
                       f"Wait for it (GET {status_url(job.id)}) or cancel it (POST /events/jobs/{job.id}/cancel).")


def _token_of(reply: Reply) -> str | None:
    """The request token behind a preview's Confirm button; None when the reply is no preview."""
    if reply.template != "guard_preview":
        return None
    for b in reply.context.get("buttons", []):
        if b.get("action_id") == "guard_confirm":
            return b.get("value")
    return None


def _said(reply: Reply) -> tuple[str, str | None]:
    ctx = reply.context or {}
    if ctx.get("message") is not None:
        return plain(ctx["message"]), plain(ctx["hint"]) if ctx.get("hint") else None
    return reply.text, None


def confirm(rt: Runtime, token: str, user: str, single: bool = False) -> Answer:
    """Press Confirm on the stored request as `user`; what happened, as an Answer."""
    out = dash_flow.click(rt, "confirm", token, user)
    req = out.request
    message = plain(out.message) if out.message else ""
    if req is None:
        raise ApiError(404, "busbot no longer knows this request, so nothing ran.", "Send the request again.")
    if req.state == "AWAITING":
        return Answer(202, Accepted(status="AWAITING_APPROVAL", approvalId=req.token, toMove=req.to_move,
                                    message="A second operator must approve this; the request was posted "
                                            "to the actions channel.", statusUrl=status_url(req.token)))
    if req.state != "CONFIRMED":
        raise ApiError(409, message or f"The request is {req.state.lower()}, so nothing ran.",
                       plain(out.hint) if out.hint else None)
    job = store.get(rt.bus, req.job_id) if req.job_id else None
    if job is None:  # a job that could not start (another one holds the stream)
        raise ApiError(409, message or "Nothing ran.", plain(out.hint) if out.hint else None)
    return job_answer(job, single)


def job_answer(job: Job, single: bool) -> Answer:
    body = Accepted(status=job.status, jobId=job.id, moved=job.moved, toMove=job.to_move,
                    message=f"Job {job.id} {job.status.lower()}: moved {job.moved} of {job.to_move}.",
                    statusUrl=status_url(job.id))
    return Answer(200 if single or not job.active else 202, body)


def reprocess_one(rt: Runtime, user: str, ident: str) -> Answer:
    bus = rt.bus
    try:
        entry = resolve(bus, bus.keys.dlq, ident)
    except BadId as exc:
        raise ApiError(404, str(exc).replace("`", ""), "GET /events/dlq lists the DLQ entries.") from None
    source_free(rt, bus.keys.dlq)
    if "event" not in entry.fields:
        raise ApiError(422, f"DLQ entry {entry.entry_id} has no event field, so there is nothing to republish.",
                       f"Delete it instead, or inspect it: GET /events/dlq/{entry.entry_id}.")
    try:
        req = dash_flow.preview_selected(rt, user, "reprocess", [entry.entry_id])
    except dash_flow.FlowError as exc:
        raise ApiError(409, plain(exc.message), plain(exc.hint) if exc.hint else None) from None
    return confirm(rt, req.token, user, single=True)


def reprocess_bulk(rt: Runtime, user: str, event_type: str | None) -> Answer:
    bus = rt.bus
    source_free(rt, bus.keys.dlq)
    try:
        reply = preview_reprocess(bus, user, type=event_type)
    except CommandError as exc:
        raise ApiError(400, plain(exc.message), plain(exc.hint) if exc.hint else None) from None
    token = _token_of(reply)
    if token is None:  # nothing matches
        message, _ = _said(reply)
        return Answer(200, Accepted(status="NOTHING_TO_DO", toMove=0, moved=0, message=message))
    return confirm(rt, token, user)


def replay(rt: Runtime, user: str, body: Replay) -> Answer:
    bus = rt.bus
    now = bus.clock()
    try:
        start = parse_when(body.startTime, now) if body.startTime else 0
        end = parse_when(body.endTime, now) if body.endTime else now
    except WhenError as exc:
        raise ApiError(400, f"startTime/endTime: {str(exc).replace('`', '')}",
                       "Use ISO-8601 such as 2025-12-01T00:00:00Z, or an age such as 2h.") from None
    if start > end:
        raise ApiError(400, "startTime is after endTime.", "Give a startTime before the endTime.")
    source_free(rt, bus.keys.events)
    form = dash_flow.ReplayForm(start_ms=start, end_ms=end, types=list(body.eventTypes or []),
                                tenant=body.tenantId, limit=body.limit, rate=0)
    try:
        req = dash_flow.preview_replay(rt, user, form)
    except dash_flow.FlowError as exc:
        return Answer(200, Accepted(status="NOTHING_TO_DO", toMove=0, moved=0, message=plain(exc.message)))
    if body.batchSize:
        _set_batch(rt, req, body.batchSize)
    return confirm(rt, req.token, user)


def _set_batch(rt: Runtime, req: GuardedRequest, batch: int) -> None:
    """The job's batch size travels with the request (before anyone confirms it)."""
    req.params["batch"] = batch
    rt.bus.r.hset(rt.bus.keys.approval(req.token), "params", json.dumps(req.params))


def pause_or_resume(rt: Runtime, user: str, verb: str, group: str | None) -> Answer:
    bus = rt.bus
    group = group or bus.settings.bus_group
    reply = router.run(f"{verb} {group}", rt, user)
    token = _token_of(reply)
    message, hint = _said(reply)
    if token is None:
        if reply.template == "error":
            bus.r.ping()  # Redis down: raises, and the caller answers 503
            raise ApiError(404, message, hint)
        return Answer(200, GroupAnswer(status="NOTHING_TO_DO", group=group, paused=verb == "pause",
                                       message=message))
    out = dash_flow.click(rt, "confirm", token, user)
    req = out.request
    if req is not None and req.state == "AWAITING":
        return Answer(202, GroupAnswer(status="AWAITING_APPROVAL", group=group, approvalId=req.token,
                                       message="A second operator must approve this; the request was posted "
                                               "to the actions channel."))
    if req is None or req.state != "CONFIRMED":
        raise ApiError(409, plain(out.message) if out.message else "Nothing was done.",
                       plain(out.hint) if out.hint else None)
    return Answer(200, GroupAnswer(status="COMPLETED", group=group, paused=verb == "pause",
                                   message=plain(out.message) if out.message else f"{group} {verb}d."))


def decide(rt: Runtime, user: str, token: str, button: str) -> tuple[GuardedRequest, str]:
    """Approve or reject, as the Slack button of that name; (request after, sentence)."""
    bus = rt.bus
    before = requests.get(bus, token)
    if before is None:
        raise ApiError(404, f"There is no approval request {token}.", "GET /events/approvals lists the open ones.")
    if button == "approve" and user in (before.requester, before.confirmed_by):
        dash_flow.click(rt, button, token, user)  # refused and audited by the same handler
        raise ApiError(403, "You asked for this, so another operator has to approve it.",
                       "The request stays open for them.")
    out = dash_flow.click(rt, button, token, user)
    after = out.request
    wanted = "APPROVED" if button == "approve" else "REJECTED"
    if after is None or after.state != wanted or before.state != "AWAITING":
        raise ApiError(409, plain(out.message) if out.message else f"The request is {before.state.lower()}.",
                       plain(out.hint) if out.hint else None)
    return after, plain(out.message) if out.message else wanted.lower()
