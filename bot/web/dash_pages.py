"""The dashboard's pages (GET): what each tab reads, from the same services as `/bus`."""
from __future__ import annotations

import json

from flask import Response, abort, request

from bot.actions import audit, policy, requests
from bot.alerts.overview import rule_statuses
from bot.alerts.rules import rule_for
from bot.bus import Bus
from bot.jobs import store
from bot.services.dlq import dlq_entry, dlq_list
from bot.services.dlq_top import dlq_top
from bot.services.health import get_health
from bot.services.scan import walk
from bot.timeparse import human_age, id_ms, is_stream_id, iso_ms
from bot.web import dash_history
from bot.web.dash_charts import overview_charts
from bot.web.dash_filter import parse_filter
from bot.web.dash_flow import may_approve
from bot.web.dashboard import bp, dash, me, page

PAGE = 25
TYPES_SEEN = 5000  # newest main-stream entries read for the Replay tab's type list


@bp.get("/events")
def overview() -> Response:
    bus = dash().rt.bus
    health = get_health(bus)
    now = health.checked_ms
    alerts = [s for s in rule_statuses(bus) if s.state.firing]
    jobs = [j for j in store.recent(bus, 50) if j.active]
    charts = overview_charts(dash_history.day_summary(bus, now), now, bus.settings.bus_dlq_warn,
                             bus.settings.bus_lag_warn)
    return page("overview.html", tab="overview", h=health, alerts=alerts, jobs=jobs,
                approvals=requests.awaiting(bus), charts=charts,
                threshold=lambda rule, v: rule_for(bus.settings, rule).fmt(v),
                age=lambda ms: human_age(now - ms) if ms else "never", iso=iso_ms)


@bp.get("/events/dlq")
def dlq() -> Response:
    bus = dash().rt.bus
    now = bus.clock()
    flt, error = parse_filter(request.args, now)
    top = dlq_top(bus, 10)
    rows, next_before = [], None
    before = request.args.get("before")
    if before and not is_stream_id(before):
        error = "before must be a stream id such as 1764000000000-0: use the Older link."
    if error is None:
        before = before or flt.first_before
        listing = dlq_list(bus, PAGE, flt, before)
        rows = [{"id": e.entry_id, "type": e.type, "tenant": e.tenant, "error": e.error.splitlines()[0][:200]
                 if e.error else "", "age": human_age(now - (id_ms(e.entry_id) or now)),
                 "attempts": e.fields.get("attempts", "")} for e in listing.entries]
        next_before = listing.next_before
    return page("dlq.html", tab="dlq", top=top, rows=rows, f=flt, args=request.args, error=error,
                next_before=next_before, first_page=not request.args.get("before"))


@bp.get("/events/dlq/<entry_id>")
def dlq_show(entry_id: str) -> Response:
    bus = dash().rt.bus
    view = dlq_entry(bus, entry_id)
    if view is None:
        abort(404)
    e = view.entry
    body = json.dumps(e.event, indent=2, ensure_ascii=False) if e.event is not None else (e.raw_event or "")
    return page("dlq_entry.html", tab="dlq", e=e, v=view, body=body,
                stack=e.fields.get("errorStack", ""), age=human_age(view.age_ms))


@bp.get("/events/replay")
def replay() -> Response:
    bus = dash().rt.bus
    now = bus.clock()
    return page("replay.html", tab="replay", types=types_seen(bus), default_start=_local(now - 3_600_000),
                default_end=_local(now), error=None, form={}, selected=[])


def types_seen(bus: Bus) -> list[str]:
    """Event types among the newest main-stream entries, for the Replay tab's multi-select."""
    return sorted({e.type for e in walk(bus.r, bus.keys.events, limit=TYPES_SEEN, mask=bus.masker)})


def _local(ms: int) -> str:
    """A datetime-local value (UTC, to the minute)."""
    return (iso_ms(ms) or "")[:16]


@bp.get("/events/jobs")
def jobs() -> Response:
    bus = dash().rt.bus
    recent = store.recent(bus, 50)
    return page("jobs.html", tab="jobs", jobs=recent, refresh=any(j.active for j in recent))


@bp.get("/events/jobs/<job_id>")
def job(job_id: str) -> Response:
    bus = dash().rt.bus
    j = store.get(bus, job_id)
    if j is None:
        abort(404)
    return page("job.html", tab="jobs", j=j, refresh=j.active, iso=iso_ms)


@bp.get("/events/approvals")
def approvals() -> Response:
    bus = dash().rt.bus
    waiting = requests.awaiting(bus)
    return page("approvals.html", tab="approvals", waiting=waiting,
                mine={q.token for q in waiting if not may_approve(bus, q, me().user, dash().rt.groups)},
                expires=lambda q: human_age(max(0, q.expires - bus.clock())))


@bp.get("/events/requests/<token>")
def request_page(token: str) -> Response:
    bus = dash().rt.bus
    req = requests.get(bus, token)
    if req is None:
        abort(404)
    now = bus.clock()
    expired = req.state in ("PREVIEWED", "AWAITING") and req.expires <= now
    return page("request.html", tab="approvals" if req.state == "AWAITING" else "dlq", q=req,
                expired=expired, approval=policy.needs_approval(bus.settings, req.kind),
                may_approve=may_approve(bus, req, me().user, dash().rt.groups),
                expires=human_age(max(0, req.expires - now)))


@bp.get("/events/audit")
def audit_page() -> Response:
    bus = dash().rt.bus
    entries = audit.latest(bus, 200)
    return page("audit.html", tab="audit", entries=entries, iso=lambda i: iso_ms(id_ms(i)))
