"""The dashboard's destructive forms on the guarded core of `/bus`.

A form's selection becomes the same `GuardedRequest` a `/bus` preview stores (bounds fixed
now, exact count, audited as `<kind>.request`); its Confirm, Cancel, Approve and Reject buttons
and a job's Cancel are the very button handlers Slack clicks (`commands.router.run_action`),
so the checks (operator, never your own approval, single use, expiry), the jobs and the audit
are one code path whichever front end is used. A request confirmed here that needs approval
is also posted to the actions channel with the usual Approve / Reject buttons, so a second
operator can approve it in Slack, here or through the API.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.actions import audit, policy, requests
from bot.actions.requests import GuardedRequest
from bot.actions.selection import Selection, select
from bot.bus import Bus
from bot.jobs import store
from bot.jobs.model import Job
from bot.notify import Message
from bot.phrase import PhraseLike, code, phrase
from bot.plural import plural
from bot.redis_types import maybe_text
from bot.runtime import Runtime
from bot.timeparse import is_stream_id
from commands.router import run_action  # the adapters' entry point into the commands

MAX_SELECTED = 500  # ids one form may carry
ID_MAX_SEQ = 18446744073709551615
BUTTONS = {"confirm": "guard_confirm", "cancel": "guard_cancel", "approve": "guard_approve",
           "reject": "guard_reject"}


class FlowError(Exception):
    """Shown on the page as it is: one sentence and what to do instead."""

    def __init__(self, message: PhraseLike, hint: PhraseLike = None):
        super().__init__(str(message))
        self.message, self.hint = phrase(message), phrase(hint) if hint else None


@dataclass
class Outcome:
    message: Any  # a phrase
    hint: Any = None
    request: GuardedRequest | None = None


def _id_key(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


def active_job(bus: Bus, stream: str) -> Job | None:
    """The job still working on `stream` (one job per source stream), or None."""
    active = maybe_text(bus.r.get(bus.keys.job_active(stream)))
    job = store.get(bus, active) if active else None
    return job if job is not None and job.active else None


def source_free(bus: Bus, stream: str) -> None:
    job = active_job(bus, stream)
    if job is not None:
        raise FlowError(phrase("Job ", code(job.id), f" ({job.kind}) is still {job.status.lower()} on ",
                               code(stream), ", and only one job at a time may work on a stream."),
                        "Wait for it on the Jobs tab, or cancel it there, then try again.")


def _store(bus: Bus, req: GuardedRequest, title: str, verb: str, summary: PhraseLike,
           sel: Selection) -> GuardedRequest:
    """Store the request as `/bus` previews do, with the breakdown the dashboard shows."""
    req.preview = {"title": title, "verb": verb, "summary": phrase(summary), "facts": [],
                   "by_type": sel.by_type, "by_tenant": sel.by_tenant, "unmovable": sel.unmovable,
                   "source": "dashboard"}
    req = requests.create(bus, req)
    audit.record(bus, req.requester, f"{req.kind}.request", req.command, f"{req.to_move} selected")
    return req


def preview_selected(rt: Runtime, user: str, action: str, raw_ids: list[str]) -> GuardedRequest:
    """"Reprocess Selected" / "Delete Selected": the checked DLQ entries, counted exactly."""
    bus = rt.bus
    ids = sorted({i.strip() for i in raw_ids if i.strip()}, key=lambda i: _id_key(i) if is_stream_id(i) else (0, 0))
    if not ids:
        raise FlowError("No entry was selected, so there is nothing to do.",
                        "Tick the boxes of the entries first, then press the button again.")
    bad = [i for i in ids if not is_stream_id(i)]
    if bad:
        raise FlowError(phrase(code(bad[0][:60]), " is not a DLQ stream id."),
                        "Select entries with their boxes on the Dead Letter Queue tab.")
    if len(ids) > MAX_SELECTED:
        raise FlowError(f"{len(ids):,} entries were selected; one request takes at most {MAX_SELECTED}.",
                        "Narrow the filter or select fewer entries.")
    dlq = bus.keys.dlq
    source_free(bus, dlq)
    one = len(ids) == 1
    if action == "reprocess":
        kind, job_kind = ("reprocess_one" if one else "reprocess_bulk"), "reprocess"
        verb, target = "Reprocess", bus.keys.events
    else:
        kind = job_kind = "delete" if one else "purge"
        verb, target = "Delete", bus.keys.dlq_archive
    sel = select(bus, job_kind, dlq, {"ids": ids}, start=ids[0], upper=ids[-1])
    if sel.matched == 0:
        raise FlowError("None of the selected entries is still in the DLQ (or none can be moved), "
                        "so nothing would change.",
                        "Reload the Dead Letter Queue tab to see what is there now.")
    n = sel.matched
    noun = plural(n, "DLQ entry")
    if action == "reprocess":
        summary = phrase(f"{noun} {'goes' if n == 1 else 'go'} back to ", code(bus.keys.events),
                         f" as the same event (same envelope id) and {'leaves' if n == 1 else 'leave'} the DLQ.")
        command = f"reprocess {ids[0]}" if one else f"reprocess {len(ids)} selected DLQ entries"
    else:
        summary = phrase(f"{noun} {'leaves' if n == 1 else 'leave'} the DLQ; each is copied to ",
                         code(bus.keys.dlq_archive),
                         f" first and kept {bus.settings.bus_archive_days} days, so it can be restored.")
        command = f"dlq delete {ids[0]}" if one else f"dlq purge {len(ids)} selected DLQ entries"
    gone = len(ids) - n - sel.unmovable
    if gone > 0:
        summary = phrase(summary, f" {gone:,} of the selected entries are no longer in the DLQ.")
    req = GuardedRequest(token="", kind=kind, command=command, params={"ids": ids}, source=dlq,
                         target=target, start=ids[0], upper=ids[-1], to_move=n, requester=user)
    return _store(bus, req, f"{verb} {noun}", verb, summary, sel)


@dataclass
class ReplayForm:
    start_ms: int
    end_ms: int
    types: list[str]
    tenant: str | None
    limit: int | None
    rate: int


def preview_replay(rt: Runtime, user: str, form: ReplayForm) -> GuardedRequest:
    bus = rt.bus
    if form.start_ms > form.end_ms:
        raise FlowError("The start is after the end.", "Pick a start before the end.")
    events = bus.keys.events
    source_free(bus, events)
    params: dict[str, Any] = {k: v for k, v in (("types", form.types), ("tenant", form.tenant),
                                                ("rate", form.rate)) if v}
    sel = select(bus, "replay", events, params, start=f"{form.start_ms}-0",
                 upper=_replay_upper(bus, form.end_ms), limit=form.limit)
    if sel.matched == 0:
        raise FlowError(f"No event in that range matches ({sel.scanned:,} read), so there is nothing to replay.",
                        "Widen the range or clear the type and tenant filters.")
    n = sel.matched
    summary = phrase(f"{n:,} of the {plural(sel.scanned, 'event')} read match. Each is republished to ", code(events),
                     " as a copy with a new id, data.__replay=true, correlationId=replay-<job> and replayOf; "
                     "the originals stay. " + (f"Rate limit {form.rate:,}/s." if form.rate else "Unthrottled."))
    command = " ".join(w for w in ("replay", f"from={form.start_ms}", f"to={form.end_ms}",
                                   f"types={','.join(form.types)}" if form.types else "",
                                   f"tenant={form.tenant}" if form.tenant else "",
                                   f"limit={form.limit}" if form.limit else "",
                                   f"rate={form.rate}" if form.rate else "") if w)
    req = GuardedRequest(token="", kind="replay", command=command, params=params, source=events,
                         target=events, start=f"{form.start_ms}-0", upper=sel.upper, to_move=n,
                         requester=user)
    return _store(bus, req, f"Replay {plural(n, 'event')}", "Replay", summary, sel)


def _replay_upper(bus: Bus, end_ms: int) -> str:
    """The last id to read: the range's end, never past the stream's last entry now, so the
    copies the job writes are never read back into it."""
    last = bus.r.xrevrange(bus.keys.events, "+", "-", count=1)
    end = f"{end_ms}-{ID_MAX_SEQ}"
    if not last:
        return f"{end_ms}-0"
    newest = str(last[0][0])
    return newest if _id_key(newest) < _id_key(end) else end


def click(rt: Runtime, button: str, token: str, user: str) -> Outcome:
    """Confirm / Cancel / Approve / Reject, exactly as the Slack button of that name."""
    before = requests.get(rt.bus, token)
    reply = run_action(BUTTONS[button], token, rt, user)
    after = requests.get(rt.bus, token)
    if (button == "confirm" and before is not None and before.state == "PREVIEWED"
            and after is not None and after.state == "AWAITING"):
        rt.notifier.post(Message(reply.template, reply.context, reply.text))  # the usual Approve / Reject
    return Outcome(*_said(reply), request=after)


def cancel_job(rt: Runtime, job_id: str, user: str) -> Outcome:
    return Outcome(*_said(run_action("job_cancel", job_id, rt, user)))


def _said(reply: Any) -> tuple[Any, Any]:
    """The reply's sentence and hint (a notice or an error), else its plain text."""
    ctx = reply.context or {}
    if isinstance(ctx.get("message"), (str, list)):
        return ctx["message"], ctx.get("hint")
    return reply.text, None


def may_approve(bus: Bus, req: GuardedRequest, user: str, groups: policy.GroupDirectory | None = None) -> bool:
    """Approve / Reject are offered to approvers other than the requester."""
    return policy.is_approver(bus.settings, user, groups) and user not in (req.requester, req.confirmed_by)
