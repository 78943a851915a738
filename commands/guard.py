"""The destructive flow's buttons: Confirm / Cancel on a preview, Approve /
Reject on an approval request, Cancel on a running job. Every click is checked (operator,
not self-approval, not expired, not used before) and audited.

A command builds a `GuardedRequest` and returns `preview_reply(...)`; running it is a job
(`bot.actions.execute`) or, for kinds that are not moves, the function in `EXECUTORS`.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.actions import audit, policy, requests
from bot.actions.execute import start_job
from bot.actions.requests import GuardedRequest, StepRefused
from bot.actions.runtime import hooks_for
from bot.actions.view import job_view
from bot.bus import Bus
from bot.jobs import lease, store
from bot.jobs.model import Job
from bot.phrase import PhraseLike, code, join, person, phrase, plain
from bot.redis_types import maybe_text
from bot.runtime import Runtime
from bot.timeparse import human_age
from commands.actions import ActionCall, action
from commands.reply import CommandError, Reply
from commands.selection_view import readable_id
from commands.views import run_button

# policy kind -> fn(bus, request) -> Reply, for kinds that are not jobs (pause, resume, trim)
EXECUTORS: dict[str, Callable[[Bus, GuardedRequest], Reply]] = {}


def notice(message: PhraseLike, hint: PhraseLike = None, symbol: str = "info",
           buttons: list[dict] | None = None, *, replace: bool = False,
           in_channel: bool = False) -> Reply:
    """One sentence (a phrase), what to do next, a status symbol (bot.symbols) and buttons."""
    message = phrase(message)
    return Reply("guard_notice", {"message": message, "hint": phrase(hint) if hint else None,
                                  "symbol": symbol, "buttons": buttons or []}, plain(message),
                 visibility="channel" if in_channel else "private", replaces=replace,
                 shareable=False)


def refuse(bus: Bus, user_id: str, what: PhraseLike, role: str = policy.OPERATOR,
           check: policy.Check | None = None) -> Reply:
    """Polite, private and audited: the caller lacks `role`; says which role and how to get it."""
    audit.record(bus, user_id, "refused", plain(what), f"not an {role}" if role[0] in "aeiou" else f"not a {role}")
    name = policy.role_name(bus.settings, role)
    setting, groups = policy.how_to_get(bus.settings, role)
    who = None if role == policy.VIEWER else f"Ask one of the {name} to do it, or a"
    join_groups = phrase("sk to join ", join([code(g) for g in groups], " or "), ", or a") if groups else None
    ask = phrase(who or "A", join_groups, "sk an admin to add you (", code(user_id), ") to ", code(setting), ".")
    note = check.note if check is not None else None
    return notice(phrase(f"Only busbot {name} can ", what, ", and you are not one of them."),
                  phrase(ask, f" {note}" if note else None), "lock")


def require_operator(bus: Bus, user_id: str, what: PhraseLike) -> Reply | None:
    """None when the caller is an operator (user groups through the runtime's directory)."""
    check = policy.has_role(bus.settings, policy.current_groups(), user_id, policy.OPERATOR)
    return None if check else refuse(bus, user_id, what, policy.OPERATOR, check)


def check_source_free(bus: Bus, stream: str) -> None:
    """One job per source stream: say so at preview time, not after the approval."""
    active = maybe_text(bus.r.get(bus.keys.job_active(stream)))
    job = store.get(bus, active) if active else None
    if job is not None and job.active:
        raise CommandError(phrase("Job ", code(job.id), f" ({job.kind}) is still {job.status.lower()} on ",
                                  code(stream), ", and only one job at a time may work on a stream."),
                           phrase("Wait for it (", code(f"/bus job {job.id}"), ") or stop it: ",
                                  code(f"/bus job cancel {job.id}"), "."))


def empty_reply(message: PhraseLike, hint: PhraseLike = None) -> Reply:
    """A selection of zero: say so and offer nothing to click."""
    return notice(message, hint, "zero")


def preview_reply(bus: Bus, req: GuardedRequest, *, title: str, verb: str, summary: PhraseLike,
                  facts: list[dict], breakdown: dict | None = None,
                  notes: Sequence[PhraseLike] | None = None,
                  warnings: Sequence[PhraseLike] | None = None, diff: str | None = None) -> Reply:
    """Store the request and answer with the preview and its Confirm / Cancel buttons.
    `facts` are label/value pairs (bot.phrase.fact), `breakdown` counts by type and tenant,
    `notes` and `warnings` are phrases, `diff` a unified diff (an edited event) shown as it is."""
    approval = policy.needs_approval(bus.settings, req.kind)
    summary = phrase(summary)
    req.preview = {"title": title, "verb": verb, "summary": summary, "facts": facts, "diff": diff}
    req = requests.create(bus, req)
    audit.record(bus, req.requester, f"{req.kind}.request", req.command, f"{req.to_move} selected")
    ttl = human_age(bus.settings.bus_approval_ttl * 1000)
    notes = [phrase(n) for n in notes or []]
    second: list[PhraseLike] = ["After you confirm, a second operator must approve it (", code("/bus approvals"),
                                " lists what waits). "] if approval else []
    notes.append(phrase(*second, f"These buttons expire in {ttl}."))
    confirm = {"text": "Request approval" if approval else verb, "action_id": "guard_confirm",
               "value": req.token, "style": "danger",
               "confirm": {"title": f"{verb}?", "text": f"{title}. " + (
                   "This sends it to a second operator for approval." if approval else "This runs now."),
                   "confirm": "Request approval" if approval else verb, "deny": "Back"}}
    buttons = [confirm, {"text": "Cancel", "action_id": "guard_cancel", "value": req.token}]
    return Reply("guard_preview", {"title": title, "summary": summary, "facts": facts,
                                   "breakdown": breakdown, "notes": notes,
                                   "warnings": [phrase(w) for w in warnings or []], "buttons": buttons,
                                   "diff": diff},
                 f"{title}: {plain(summary)}", shareable=False)


def job_reply(bus: Bus, job: Job, *, in_channel: bool = False, replace: bool = True) -> Reply:
    view = job_view(job, bus.clock())
    return Reply("job", {"job": view}, view["summary"],
                 command=f"job {job.id}", visibility="channel" if in_channel else "private",
                 replaces=replace, shareable=not in_channel)


def approval_reply(bus: Bus, req: GuardedRequest) -> Reply:
    p = req.preview
    buttons = [
        {"text": "Approve", "action_id": "guard_approve", "value": req.token, "style": "primary",
         "confirm": {"title": "Approve?", "text": f"{p['title']}. It runs as soon as you approve.",
                     "confirm": "Approve", "deny": "Back"}},
        {"text": "Reject", "action_id": "guard_reject", "value": req.token, "style": "danger"},
    ]
    expires = "in " + human_age(max(0, req.expires - bus.clock()))
    return Reply("guard_approval", {"title": p["title"], "what": p["title"], "summary": p["summary"],
                                    "facts": p["facts"], "diff": p.get("diff"), "requester": person(req.requester),
                                    "expires": expires, "upper": readable_id(req.upper), "buttons": buttons},
                 f"Approval needed: {p['title']} (requested by {req.requester})",
                 visibility="channel", replaces=False, shareable=False)


def lost_click(bus: Bus, exc: StepRefused, user_id: str, button: str) -> Reply:
    """The request was not in the state this button expects: say why; nothing ran."""
    req = exc.request
    audit.record(bus, user_id, f"{button}.ignored", req.command if req else "", exc.reason,
                 req.job_id if req else "")
    if exc.reason == "missing" or req is None:
        return notice("busbot no longer knows this request, so nothing ran.",
                      "Run the command again for a fresh preview.", "caution")
    if exc.reason == "environment":
        here = bus.settings.bus_environment_name
        return notice(f"This request was made in the environment {req.env!r}, not {here!r}, so nothing ran.",
                      f"Use its buttons where it was posted, or start again with @{req.env}.",
                      "caution")
    if exc.reason == "expired":
        ttl = human_age(bus.settings.bus_approval_ttl * 1000)
        return notice(f"These buttons expired ({ttl} after they were shown), so nothing ran.",
                      "Start again for a fresh preview of what matches now.", "expired",
                      [run_button("Start again", req.command)], replace=True)
    done = {"CONFIRMED": phrase("was already confirmed by ", person(req.confirmed_by)),
            "AWAITING": phrase("was already sent for approval by ", person(req.confirmed_by)),
            "APPROVED": phrase("was already approved by ", person(req.approved_by)),
            "REJECTED": phrase("was rejected by ", person(req.rejected_by)),
            "CANCELLED": phrase("was cancelled")}.get(exc.reason, phrase(f"is {exc.reason.lower()}"))
    job = phrase(" (job ", code(req.job_id), ")") if req.job_id else None
    return notice(phrase("This request ", done, job, "; this click did nothing, so nothing runs twice."),
                  phrase(code(f"/bus job {req.job_id}"), " shows the job.") if req.job_id else None)


def execute(rt: Runtime, req: GuardedRequest, *, in_channel: bool) -> Reply:
    bus = rt.bus
    if req.kind in EXECUTORS:
        reply = EXECUTORS[req.kind](bus, req)
    else:
        try:
            job = start_job(bus, req, hooks_for(rt.notifier), lease.new_owner())
        except store.JobConflict as exc:
            audit.record(bus, req.requester, f"{req.kind}.refused", req.command, str(exc))
            return notice(f"Nothing ran: {exc}. One job per stream at a time.",
                          phrase("Wait for ", code(exc.other.id), " to end, then start again."), "caution",
                          [run_button("Start again", req.command)], replace=True)
        if job.active:
            rt.ensure_jobs()
        reply = job_reply(bus, job)
    if in_channel:
        reply.visibility, reply.shareable = "channel", False
    reply.replaces = True
    return reply


def clicked_elsewhere(call: ActionCall, req: GuardedRequest | None, button: str) -> Reply | None:
    """An approval request posted in Slack counts only in the channel it was posted to: its
    buttons clicked anywhere else in Slack (another channel, a direct message) are refused
    and audited. Surfaces that are not Slack (console, dashboard, API) pass no channel, and
    neither does Slack's App Home (bot/slack/home.py): a click there is in no channel at all,
    by the person whose home it is, so it counts as it does on the dashboard."""
    if req is None or not req.channel or call.channel is None or call.channel == req.channel:
        return None
    audit.record(call.bus, call.user_id, f"{req.kind}.{button}.refused", req.command,
                 f"clicked in {call.channel or 'no channel'}, requested in {req.channel}")
    return notice(f"This approval request was posted in another channel, so this {button} click did nothing.",
                  "Use the buttons on the request in the channel where it was posted.")


@action("guard_confirm", operator_only="confirm guarded actions")
def confirm(call: ActionCall) -> Reply:
    bus, user = call.bus, call.user_id
    req = requests.get(bus, call.value)
    approval = req is not None and policy.needs_approval(bus.settings, req.kind)
    extra = {"expires": str(bus.clock() + bus.settings.bus_approval_ttl * 1000),
             "channel": call.channel or ""} if approval else {}  # approvals count only in that channel
    try:
        req = requests.step(bus, call.value, "PREVIEWED", "AWAITING" if approval else "CONFIRMED",
                            confirmed_by=user, **extra)
    except StepRefused as exc:
        return lost_click(bus, exc, user, "confirm")
    audit.record(bus, user, f"{req.kind}.confirm", req.command, "awaiting approval" if approval else "confirmed")
    if approval:
        return approval_reply(bus, req)
    return execute(call.rt, req, in_channel=False)


@action("guard_cancel", operator_only="cancel guarded actions")
def cancel(call: ActionCall) -> Reply:
    try:
        req = requests.step(call.bus, call.value, "PREVIEWED", "CANCELLED", cancelled_by=call.user_id)
    except StepRefused as exc:
        return lost_click(call.bus, exc, call.user_id, "cancel")
    audit.record(call.bus, call.user_id, f"{req.kind}.cancel", req.command, "cancelled at preview")
    return notice("Cancelled; nothing ran.", None, "cancelled", replace=True)


@action("guard_approve", operator_only="approve guarded actions", role=policy.APPROVER)
def approve(call: ActionCall) -> Reply:
    bus, user = call.bus, call.user_id
    req = requests.get(bus, call.value)
    elsewhere = clicked_elsewhere(call, req, "approve")
    if elsewhere:
        return elsewhere
    if req is not None and user in (req.requester, req.confirmed_by):
        audit.record(bus, user, f"{req.kind}.approve.refused", req.command, "self-approval")
        return notice("You asked for this, so another operator has to approve it.",
                      phrase("The request stays open for them; ", code("/bus approvals"),
                             " lists the open requests with their buttons."), "approval")
    try:
        req = requests.step(bus, call.value, "AWAITING", "APPROVED", approved_by=user)
    except StepRefused as exc:
        return lost_click(bus, exc, user, "approve")
    audit.record(bus, user, f"{req.kind}.approve", req.command, f"requested by {req.requester}")
    return execute(call.rt, req, in_channel=True)


@action("guard_reject", operator_only="reject guarded actions", role=policy.APPROVER)
def reject(call: ActionCall) -> Reply:
    bus, user = call.bus, call.user_id
    elsewhere = clicked_elsewhere(call, requests.get(bus, call.value), "reject")
    if elsewhere:
        return elsewhere
    try:
        req = requests.step(bus, call.value, "AWAITING", "REJECTED", rejected_by=user)
    except StepRefused as exc:
        return lost_click(bus, exc, user, "reject")
    audit.record(bus, user, f"{req.kind}.reject", req.command, f"requested by {req.requester}")
    return notice(phrase(person(user), " rejected: ", req.preview.get("title", req.kind), " (asked by ",
                         person(req.requester), "). Nothing ran."), None, "rejected", replace=True,
                  in_channel=True)


@action("job_cancel", operator_only="cancel jobs")
def cancel_job(call: ActionCall) -> Reply:
    return cancel_job_reply(call.rt, call.value, call.user_id)


def _no_job(job_id: str) -> CommandError:
    return CommandError(phrase("There is no job ", code(job_id), "."),
                        phrase(code("/bus jobs"), " lists the recent ones."))


def cancel_job_reply(rt: Runtime, job_id: str, user: str) -> Reply:
    bus = rt.bus
    job = store.get(bus, job_id)
    if job is None:
        raise _no_job(job_id)
    if not job.active:
        return notice(phrase("Job ", code(job.id), f" already ended ({job.status}); there is nothing to cancel."),
                      f"It moved {job.moved:,} of {job.to_move:,}.")
    job = store.request_cancel(bus, job_id, lease.new_owner())
    if job is None:  # expired or deleted since the read above
        raise _no_job(job_id)
    audit.record(bus, user, f"{job.kind}.cancel", job.params_text(), job.status, job.id)
    if not job.active:  # no runner held it: cancelled here, so the final steps happen here too
        hooks_for(rt.notifier).progress(bus, job, final=True)
    return job_reply(bus, job)
