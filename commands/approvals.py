"""`/bus approvals` and `/bus approval <token>`: the requests waiting for a second operator,
and one of them shown again with its Approve / Reject buttons (in the console, its choices),
for when the message that carried them has scrolled away."""
from __future__ import annotations

from bot.actions import requests
from bot.phrase import code, person, phrase
from bot.plural import plural
from bot.timeparse import human_age
from commands.guard import approval_reply, notice
from commands.invocation import Invocation
from commands.registry import REGISTRY
from commands.reply import CommandError, Reply
from commands.views import run_button

LIST = 20


@REGISTRY.command("approvals", "Requests waiting for a second operator's approval, to open again.",
                  role="operator", group="Actions")
def approvals_command(inv: Invocation) -> Reply:
    bus, now = inv.bus, inv.bus.clock()
    waiting = requests.awaiting(bus, LIST)
    rows = [{"token": q.token, "title": q.preview.get("title", q.kind), "kind": q.kind,
             "requester": person(q.requester), "age": human_age(now - q.created),
             "expires": human_age(max(0, q.expires - now)), "command": q.command} for q in waiting]
    buttons = [run_button(f"Open: {r['title']}"[:75], f"approval {r['token']}") for r in rows]
    return Reply("approvals", {"rows": rows, "buttons": buttons},
                 f"{plural(len(rows), 'request')} waiting for approval", shareable=False)


@REGISTRY.command("approval <token>", "One request waiting for approval, with its Approve and Reject buttons.",
                  max_positional=1, role="operator", group="Actions")
def approval_command(inv: Invocation) -> Reply:
    token = inv.required(0, phrase("the token of a request (see ", code("/bus approvals"), ")"))
    req = requests.get(inv.bus, token)
    if req is None:
        raise CommandError(phrase("There is no request ", code(token), "."),
                           phrase(code("/bus approvals"), " lists the requests waiting for approval."))
    if req.state != "AWAITING" or req.expires <= inv.bus.clock():
        state = "expired" if req.state == "AWAITING" else req.state.lower()
        return notice(phrase("Request ", code(token), f" ({req.preview.get('title', req.kind)}) is {state}; "
                             "there is nothing to approve."),
                      phrase(code(f"/bus job {req.job_id}"), " shows its job.") if req.job_id else None)
    reply = approval_reply(inv.bus, req)
    reply.visibility = "private"  # shown again to the one who asked, not posted to the channel
    return reply
