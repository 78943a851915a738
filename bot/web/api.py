"""The HTTP admin API under /events: the runbook's `curl` lines, and the reads around them.

Every route is one row of `ROUTES` (method, path, role, body/query model, answer model);
the blueprint and the OpenAPI document (`GET /events/openapi.json`, bot/web/openapi.py) are
both built from that table. Callers send `Authorization: Bearer <token>` with a token of
`BUS_API_TOKENS=name:token,...` and act as `api:<name>`; writes need `api:<name>` in
`BUS_OPERATORS`. Bodies are validated against their model (an unknown field is a 400 naming
it). Every error is JSON: `{"error": sentence, "hint": what to do instead}`.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, Response, g, jsonify, request
from pydantic import BaseModel, ValidationError

from bot.actions import audit, policy, requests
from bot.actions.audit import latest
from bot.actions.requests import GuardedRequest
from bot.envelope import ParsedEntry
from bot.jobs import store
from bot.jobs.model import Job
from bot.redis_errors import describe, is_unavailable
from bot.runtime import Runtime
from bot.services.dlq import dlq_entry, dlq_list
from bot.services.dlq_top import dlq_top
from bot.timeparse import id_ms, iso_ms
from bot.web import api_flow, dash_flow
from bot.web import api_models as m
from bot.web.api_flow import Answer, ApiError
from bot.web.dash_filter import parse_filter
from bot.web.probes import Busy, ProbeLimiter
from bot.web.tokens import bearer, identify, parse_tokens

log = logging.getLogger(__name__)

VIEWER, OPERATOR, APPROVER = policy.VIEWER, policy.OPERATOR, policy.APPROVER
# API requests worked on at once (a bulk preview reads the whole DLQ): more get 503 at once,
# so the API can never hold the HTTP threads Slack's acks need.
CONCURRENT = 4
BUSY_RETRY_S = 2


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # Flask syntax: /events/jobs/<job_id>
    summary: str
    handler: Callable[..., Answer]
    role: str = VIEWER
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    answer: type[BaseModel] | None = None
    statuses: tuple[int, ...] = (200,)
    what: str = ""  # for refusals: "reprocess DLQ entries"


@dataclass
class Call:
    """What a handler gets: the runtime, the caller, the validated body or query."""
    rt: Runtime
    user: str
    body: Any = None
    query: Any = None


# -- handlers: Call (+ path parameters) -> Answer --------------------------------------

def reprocess(call: Call) -> Answer:
    return api_flow.reprocess_one(call.rt, call.user, call.body.eventId)


def reprocess_type(call: Call) -> Answer:
    return api_flow.reprocess_bulk(call.rt, call.user, call.body.eventType)


def reprocess_all(call: Call) -> Answer:
    return api_flow.reprocess_bulk(call.rt, call.user, None)


def replay(call: Call) -> Answer:
    return api_flow.replay(call.rt, call.user, call.body)


def pause(call: Call) -> Answer:
    return api_flow.pause_or_resume(call.rt, call.user, "pause", call.body.group)


def resume(call: Call) -> Answer:
    return api_flow.pause_or_resume(call.rt, call.user, "resume", call.body.group)


def job_out(job: Job, now: int) -> m.JobOut:
    elapsed = ((job.finished or job.updated or now) - job.started) if job.started else 0
    rate = round(job.done * 1000 / elapsed, 1) if elapsed > 0 else None
    return m.JobOut(jobId=job.id, kind=job.kind, status=job.status, source=job.source, target=job.target,
                    moved=job.moved, skipped=job.skipped, toMove=job.to_move, rate=rate,
                    rateLimit=job.rate or None, filter=job.params, by=job.by,
                    approvedBy=job.approved_by or None, started=iso_ms(job.started or None),
                    updated=iso_ms(job.updated or None), finished=iso_ms(job.finished or None),
                    note=job.note or None, error=job.error or None, approvalId=job.request or None)


def _job(call: Call, job_id: str) -> Job:
    job = store.get(call.rt.bus, job_id)
    if job is None:
        raise ApiError(404, f"There is no job {job_id}.", "GET /events/jobs lists the recent ones.")
    return job


def replay_status(call: Call, job_id: str) -> Answer:
    """A job, or an approval request (AWAITING_APPROVAL until decided, then its job)."""
    bus = call.rt.bus
    job = store.get(bus, job_id)
    if job is None:
        req = requests.get(bus, job_id)
        if req is None:
            raise ApiError(404, f"There is no job or approval request {job_id}.",
                           "GET /events/jobs lists the recent jobs.")
        if req.job_id:
            job = _job(call, req.job_id)
        elif req.state in ("REJECTED", "CANCELLED") or (req.state == "AWAITING" and req.expires < bus.clock()):
            return Answer(200, m.ReplayStatus(m.Accepted(
                status="CANCELLED", approvalId=req.token, toMove=req.to_move,
                message=f"The request was {_ended(req)}; nothing ran.")))
        else:
            return Answer(200, m.ReplayStatus(m.Accepted(
                status="AWAITING_APPROVAL", approvalId=req.token, toMove=req.to_move,
                message="Waiting for a second operator's approval.")))
    return Answer(200, m.ReplayStatus(job_out(job, bus.clock())))


def _ended(req: GuardedRequest) -> str:
    if req.state == "REJECTED":
        return f"rejected by {req.rejected_by}"
    return "cancelled" if req.state == "CANCELLED" else "not approved in time"


def jobs(call: Call) -> Answer:
    now = call.rt.bus.clock()
    return Answer(200, m.JobList(jobs=[job_out(j, now) for j in store.recent(call.rt.bus, call.query.limit)]))


def job(call: Call, job_id: str) -> Answer:
    return Answer(200, job_out(_job(call, job_id), call.rt.bus.clock()))


def cancel_job(call: Call, job_id: str) -> Answer:
    before = _job(call, job_id)
    if not before.active:
        raise ApiError(409, f"Job {job_id} already ended ({before.status}); there is nothing to cancel.",
                       f"It moved {before.moved} of {before.to_move}.")
    dash_flow.cancel_job(call.rt, job_id, call.user)
    return Answer(202, job_out(_job(call, job_id), call.rt.bus.clock()))


def approval_out(req: GuardedRequest) -> m.ApprovalOut:
    return m.ApprovalOut(approvalId=req.token, kind=req.kind, title=str(req.preview.get("title", req.kind)),
                         command=req.command, state=req.state, requester=req.requester,
                         confirmedBy=req.confirmed_by or None, toMove=req.to_move,
                         created=iso_ms(req.created) or "", expires=iso_ms(req.expires) or "",
                         jobId=req.job_id or None)


def approvals(call: Call) -> Answer:
    return Answer(200, m.ApprovalList(approvals=[approval_out(r) for r in requests.awaiting(call.rt.bus)]))


def _decide(call: Call, approval_id: str, button: str) -> Answer:
    req, message = api_flow.decide(call.rt, call.user, approval_id, button)
    job = store.get(call.rt.bus, req.job_id) if req.job_id else None
    out = job_out(job, call.rt.bus.clock()) if job else None
    return Answer(200, m.Decision(approvalId=req.token, state=req.state, message=message,
                                  jobId=job.id if job else None, job=out))


def approve(call: Call, approval_id: str) -> Answer:
    return _decide(call, approval_id, "approve")


def reject(call: Call, approval_id: str) -> Answer:
    return _decide(call, approval_id, "reject")


def _entry_fields(e: ParsedEntry) -> dict[str, Any]:
    return {"id": e.entry_id, "type": e.type, "tenant": e.tenant, "eventId": e.event_id, "error": e.error,
            "attempts": e.fields.get("attempts"), "movedAt": e.fields.get("movedAt"),
            "event": e.event if e.event is not None else e.raw_event, "problem": e.problem}


def entry_out(e: ParsedEntry) -> m.DlqEntryOut:
    return m.DlqEntryOut(**_entry_fields(e))


def dlq(call: Call) -> Answer:
    q = call.query
    bus = call.rt.bus
    flt, bad = parse_filter({k: v for k, v in q.model_dump().items() if isinstance(v, str)}, bus.clock())
    if bad:
        raise ApiError(400, bad, "Use ISO-8601 such as 2025-12-01T00:00:00Z, or an age such as 2h.")
    page = dlq_list(bus, q.limit, flt, before=q.cursor or flt.first_before)
    return Answer(200, m.DlqPageOut(entries=[entry_out(e) for e in page.entries], nextCursor=page.next_before,
                                    scanned=page.scanned, scanCapped=page.scan_capped))


def dlq_top_rows(call: Call) -> Answer:
    top = dlq_top(call.rt.bus, call.query.limit)

    def rows(rs) -> list[m.TopRow]:
        return [m.TopRow(key=r.key, count=r.count, newestId=r.newest_id) for r in rs]
    return Answer(200, m.TopOut(total=top.total, malformed=top.malformed, byType=rows(top.by_type),
                                bySignature=rows(top.by_signature), byTenant=rows(top.by_tenant)))


def dlq_one(call: Call, entry_id: str) -> Answer:
    view = dlq_entry(call.rt.bus, entry_id)
    if view is None:
        raise ApiError(404, f"No DLQ entry has the id {entry_id}.", "GET /events/dlq lists the DLQ entries.")
    e = view.entry
    return Answer(200, m.DlqDetail(**_entry_fields(e), errorStack=e.fields.get("errorStack"),
                                   extraFields=view.extra_fields))


def audit_entries(call: Call) -> Answer:
    return Answer(200, m.AuditList(entries=[
        m.AuditOut(id=a.id, at=iso_ms(id_ms(a.id)), who=a.who, what=a.what, args=a.args, result=a.result,
                   job=a.job or None) for a in latest(call.rt.bus, call.query.limit)]))


WRITE = (200, 202, 400, 401, 403, 409, 503)
ROUTES: list[Route] = [
    Route("POST", "/events/dlq/reprocess", "Reprocess one DLQ entry", reprocess, OPERATOR, m.ReprocessOne,
          answer=m.Accepted, statuses=(*WRITE, 404, 422), what="reprocess DLQ entries"),
    Route("POST", "/events/dlq/reprocess-type", "Reprocess every DLQ entry of a type", reprocess_type, OPERATOR,
          m.ReprocessType, answer=m.Accepted, statuses=WRITE, what="reprocess DLQ entries"),
    Route("POST", "/events/dlq/reprocess-all", "Reprocess the whole DLQ", reprocess_all, OPERATOR, m.ReprocessAll,
          answer=m.Accepted, statuses=WRITE, what="reprocess DLQ entries"),
    Route("POST", "/events/replay", "Replay past events as marked copies", replay, OPERATOR, m.Replay,
          answer=m.Accepted, statuses=WRITE, what="replay events"),
    Route("GET", "/events/replay/status/<job_id>", "A job's (or a waiting approval's) status", replay_status,
          answer=m.ReplayStatus, statuses=(200, 401, 404, 503)),
    Route("POST", "/events/consumers/pause", "Pause a consumer group", pause, OPERATOR, m.Group,
          answer=m.GroupAnswer, statuses=(*WRITE, 404), what="pause consumer groups"),
    Route("POST", "/events/consumers/resume", "Resume a consumer group", resume, OPERATOR, m.Group,
          answer=m.GroupAnswer, statuses=(*WRITE, 404), what="resume consumer groups"),
    Route("GET", "/events/dlq", "DLQ entries, newest first, filtered and paged", dlq, query=m.DlqQuery,
          answer=m.DlqPageOut, statuses=(200, 400, 401, 503)),
    Route("GET", "/events/dlq/top", "DLQ counts by type, error signature and tenant", dlq_top_rows,
          query=m.TopQuery, answer=m.TopOut, statuses=(200, 401, 503)),
    Route("GET", "/events/dlq/<entry_id>", "One DLQ entry", dlq_one, answer=m.DlqDetail,
          statuses=(200, 401, 404, 503)),
    Route("GET", "/events/jobs", "Recent jobs, newest first", jobs, query=m.ListQuery, answer=m.JobList,
          statuses=(200, 401, 503)),
    Route("GET", "/events/jobs/<job_id>", "One job", job, answer=m.JobOut, statuses=(200, 401, 404, 503)),
    Route("POST", "/events/jobs/<job_id>/cancel", "Cancel a job between batches", cancel_job, OPERATOR, m.Empty,
          answer=m.JobOut, statuses=(202, 401, 403, 404, 409, 503), what="cancel jobs"),
    Route("GET", "/events/approvals", "Requests waiting for a second operator", approvals,
          answer=m.ApprovalList, statuses=(200, 401, 503)),
    Route("POST", "/events/approvals/<approval_id>/approve", "Approve a request (not your own)", approve, APPROVER,
          m.Empty, answer=m.Decision, statuses=(200, 401, 403, 404, 409, 503), what="approve guarded actions"),
    Route("POST", "/events/approvals/<approval_id>/reject", "Reject a request", reject, APPROVER, m.Empty,
          answer=m.Decision, statuses=(200, 401, 403, 404, 409, 503), what="reject guarded actions"),
    Route("GET", "/events/audit", "The audit trail, newest first", audit_entries, query=m.ListQuery,
          answer=m.AuditList, statuses=(200, 401, 503)),
]


# -- the blueprint -------------------------------------------------------------------

def _json(status: int, body: BaseModel | dict, headers: dict[str, str] | None = None) -> Response:
    data = body.model_dump(mode="json", exclude_none=False) if isinstance(body, BaseModel) else body
    resp = jsonify(data)
    resp.status_code = status
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


def _error(status: int, message: str, hint: str | None = None, **headers: str) -> Response:
    return _json(status, m.Error(error=message, hint=hint), headers)


def _caller(tokens: dict[str, str]) -> str | Response:
    header = request.headers.get("Authorization")
    token = bearer(header)
    if token is None:
        return _error(401, "This API needs a bearer token, and the request has none.",
                      "Send Authorization: Bearer <token>, with a token from BUS_API_TOKENS.",
                      **{"WWW-Authenticate": 'Bearer realm="busbot"'})
    user = identify(tokens, token)
    if user is None:
        log.info("API: refused %s %s: the bearer token is not one of BUS_API_TOKENS", request.method, request.path)
        return _error(401, "The bearer token is not one busbot knows.",
                      "Use a token from BUS_API_TOKENS (name:token pairs).",
                      **{"WWW-Authenticate": 'Bearer realm="busbot", error="invalid_token"'})
    return user


def _validated(model: type[BaseModel] | None, data: Any) -> Any:
    if model is None:
        return None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")  # a typo first
        err = errors[0]
        where = ".".join(str(p) for p in err["loc"]) or "body"
        fields = ", ".join(model.model_fields) or "nothing (an empty object)"
        if err["type"] == "extra_forbidden":
            raise ApiError(400, f"{where} is not a field of this request.", f"It takes: {fields}.") from None
        if err["type"] == "missing":
            raise ApiError(400, f"{where} is required.", f"It takes: {fields}.") from None
        raise ApiError(400, f"{where}: {err['msg']}.", f"It takes: {fields}.") from None


def _body(route: Route) -> Any:
    raw = request.get_data(cache=True)
    if not raw.strip():
        data: Any = {}
    else:
        data = request.get_json(silent=True, force=True)
        if data is None:
            raise ApiError(400, "The request body is not JSON.", "Send a JSON object, e.g. {\"eventId\": \"...\"}.")
    if not isinstance(data, dict):
        raise ApiError(400, "The request body is not a JSON object.", "Send a JSON object.")
    return _validated(route.body, data)


def environment_of(rt: Runtime) -> Runtime | Response:
    """The environment `?env=` names (default: the default one); 404 for an unknown name."""
    name = request.args.get("env")
    if not name or rt.envs is None:
        if name and name != rt.environment:
            return _error(404, f"There is no environment named {name!r}.", f"This busbot serves {rt.environment}.")
        return rt
    picked = rt.envs.get(name)
    if picked is None:
        return _error(404, rt.envs.unknown(name), f"Leave env out for {rt.envs.default}, or name one of those.")
    return picked


def _query(route: Route) -> Any:
    args = {k: v for k, v in request.args.items() if k != "env"}  # env= picks the environment
    return _validated(route.query, args)


def _view(rt: Runtime, tokens: dict[str, str], route: Route, limiter: ProbeLimiter) -> Callable[..., Response]:
    def view(**params: str) -> Response:
        who = _caller(tokens)
        if isinstance(who, Response):
            return who
        g.api_user = who
        here = environment_of(rt)
        if isinstance(here, Response):
            return here
        try:
            with limiter.slot():
                return _answer(route, here, who, params)
        except Busy:
            return _error(503, "busbot is answering as many API requests as it allows at once.",
                          "Retry in a few seconds.", **{"Retry-After": str(BUSY_RETRY_S)})
    view.__name__ = f"{route.handler.__name__}_{route.method.lower()}"
    return view


def _answer(route: Route, rt: Runtime, who: str, params: dict[str, str]) -> Response:
    """Role check, validation, the handler; ApiError and Redis outages as JSON answers."""
    bus = rt.bus
    try:
        check = policy.has_role(bus.settings, rt.groups, who, route.role)  # the same policy as in Slack
        if not check:
            article = "an" if route.role[0] in "aeiou" else "a"
            audit.record(bus, who, "refused", f"{route.method} {route.path}", f"not {article} {route.role}")
            setting, _ = policy.how_to_get(bus.settings, route.role)
            what = route.what or "read the bus"
            raise ApiError(403, f"Only busbot {policy.role_name(bus.settings, route.role)} can {what}, and {who} "
                                "is not one of them.", f"Ask an admin to add {who} to {setting}.")
        call = Call(rt, who, _body(route) if route.body else None, _query(route) if route.query else None)
        answer = route.handler(call, **params)
        return _json(answer.status, answer.body)
    except ApiError as exc:
        return _error(exc.status, exc.message, exc.hint)
    except Exception as exc:
        if is_unavailable(exc):
            sentence, hint = describe(exc, bus.where)
            log.warning("API %s %s: %s", request.method, request.path, sentence)
            return _error(503, sentence, hint, **{"Retry-After": "5"})
        raise  # the app's boundary logs it and answers 500 with a sentence


def register(app: Flask, rt: Runtime) -> None:
    """Serve the API (and its OpenAPI document) from `app`."""
    from bot.web import openapi

    raw = rt.bus.settings.bus_api_tokens
    tokens = parse_tokens(raw.get_secret_value() if raw else "")  # checked at start-up by the settings
    bp = Blueprint("api", __name__)
    limiter = ProbeLimiter(CONCURRENT)
    for route in ROUTES:
        bp.add_url_rule(route.path, view_func=_view(rt, tokens, route, limiter), methods=[route.method])
    bp.add_url_rule(openapi.PATH, view_func=lambda: _json(200, openapi.document(ROUTES)), methods=["GET"],
                    endpoint="openapi")
    app.register_blueprint(bp)
