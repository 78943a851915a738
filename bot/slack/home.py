"""The App Home: busbot's tab in Slack, per user (`app_home_opened` -> `views.publish`).

It shows the health overview, the open alerts, the running jobs, the approvals waiting for
this user, buttons for the common commands and the last 24 h as sparklines. A button
clicked there runs through the same router as anywhere else (the approval buttons are the
same `guard_approve` / `guard_reject`); its answer is shown at the top of the home, which
is published again so that it shows the state after the click.

A click in the home comes with no channel: approvals count there as they do on the
dashboard (the approval-channel check applies to clicks in channels only).
"""
from __future__ import annotations

import logging
import re

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.actions import policy, requests
from bot.actions.view import job_view
from bot.alerts import silences
from bot.alerts.overview import rule_statuses
from bot.alerts.view import value_text
from bot.jobs import store
from bot.redis_errors import UNREACHABLE, describe
from bot.render import render, render_reply
from bot.runtime import Runtime
from bot.services import trends
from bot.services.health import get_health
from bot.timeparse import human_age
from commands import router
from commands.guard import approval_reply
from commands.reply import Reply
from commands.views import run_button

log = logging.getLogger(__name__)

MAX_BLOCKS = 100  # a view; a message holds 50
FLASH_BLOCKS = 30  # the answer of a click, shown at the top
ALERTS, JOBS, APPROVALS = 10, 5, 5
APPROVAL_ACTIONS = ("guard_approve", "guard_reject")
COMMANDS = (("Health", "health"), ("DLQ", "dlq"), ("Top DLQ types", "dlq top"), ("Alerts", "alerts"),
            ("Silences", "silences"), ("Jobs", "jobs"), ("Groups", "groups"), ("Approvals", "approvals"))


def in_home(body: dict) -> bool:
    """Was this click made in the App Home (not in a message or a form)?"""
    return ((body.get("container") or {}).get("type") == "view"
            and (body.get("view") or {}).get("type") == "home")


def _alerts(rt: Runtime, now: int) -> list[dict]:
    active = silences.active(rt.bus, now)
    rows = []
    for status in rule_statuses(rt.bus):
        rule, st = status.rule, status.state
        if not st.firing:
            continue
        silence = silences.matching(active, rule.id, st.level, now)
        rows.append({"title": rule.title, "level": st.level, "value": value_text(rule, st.value),
                     "since": human_age(now - st.since) if st.since else None,
                     "acked_by": st.acked_by, "silenced_until": silence.expires_ms if silence else None})
    rows.sort(key=lambda r: r["level"] != "critical")
    return rows


def _approvals(rt: Runtime, user: str) -> tuple[list[dict], list[dict]]:
    """(requests this user may approve, with their buttons; this user's own, waiting)."""
    bus = rt.bus
    if not policy.is_approver(bus.settings, user, rt.groups):
        return [], []
    theirs, mine = [], []
    for req in requests.awaiting(bus, 50):
        if user in (req.requester, req.confirmed_by):
            mine.append({"title": req.preview.get("title", req.kind),
                         "expires": human_age(max(0, req.expires - bus.clock()))})
        else:
            reply = approval_reply(bus, req)
            theirs.append({**reply.context, "token": req.token})
    return theirs[:APPROVALS], mine[:APPROVALS]


def home_context(rt: Runtime, user: str) -> dict:
    """The home's view model; Redis unreachable is one sentence in it, never an error."""
    bus = rt.bus
    now = bus.clock()
    s = bus.settings
    base = {"user": user, "environment": s.bus_environment_name, "now": now,
            "commands": [run_button(label, text) for label, text in COMMANDS], "flash": None}
    if not policy.has_role(s, rt.groups, user, policy.VIEWER):  # the home shows what `/bus` would
        name, _ = policy.how_to_get(s, policy.VIEWER)
        return {**base, "commands": [], "down": f"Only busbot viewers see the event bus here, and you are "
                                                 f"not one of them. Ask an admin to add you to {name}."}
    try:
        h = get_health(bus)
        theirs, mine = _approvals(rt, user)
        jobs = [job_view(j, now) for j in store.recent(bus, 20) if j.active][:JOBS]
        return {**base, "down": None, "h": h.model_dump(), "alerts": _alerts(rt, now)[:ALERTS],
                "jobs": jobs, "approvals": theirs, "mine": mine,
                "trends": trends.last_day(bus, now), "approver": policy.is_approver(s, user, rt.groups)}
    except UNREACHABLE as exc:
        sentence, hint = describe(exc, bus.where)
        return {**base, "down": f"{sentence} {hint}"}


def flash_blocks(reply: Reply) -> list[dict]:
    """A click's answer as blocks for the top of the home (their block ids made distinct
    from the home's own: a view's block ids must be unique)."""
    blocks = render_reply(reply)["blocks"][:FLASH_BLOCKS]
    return [{**b, "block_id": f"flash_{b['block_id']}"} if b.get("block_id") else b for b in blocks]


def tell_channel(client: WebClient, rt: Runtime, action_id: str, token: str, reply: Reply) -> None:
    """An approval decided in the home is also told where it was requested, as a click on
    the request there would have been (the requester sees who approved or rejected it)."""
    if action_id not in APPROVAL_ACTIONS or reply.visibility != "channel":
        return
    req = requests.get(rt.bus, token)
    if req is None or not req.channel:
        return
    message = render_reply(reply)
    try:
        client.chat_postMessage(channel=req.channel, text=message["text"], blocks=message["blocks"])
    except SlackApiError as exc:
        log.warning("could not tell %s about the decision on %s: %s", req.channel, token,
                    exc.response.get("error"))


def home_view(rt: Runtime, user: str, flash: Reply | None = None) -> dict:
    context = home_context(rt, user)
    if flash is not None:
        context["flash"] = {"blocks": flash_blocks(flash), "text": flash.text}
    message = render("home", context, max_blocks=MAX_BLOCKS)
    return {"type": "home", "blocks": message["blocks"]}


def publish(client: WebClient, rt: Runtime, user: str, flash: Reply | None = None) -> None:
    """Build and publish `user`'s home; a failure is logged (the home keeps its last view)."""
    view = home_view(rt, user, flash)
    try:
        client.views_publish(user_id=user, view=view)
    except SlackApiError as exc:
        log.warning("views.publish for %s failed: %s", user, exc.response.get("error"))


def register(app: App, rt: Runtime) -> None:
    """The home's listeners; call it before the catch-all action listener, so that clicks
    in the home come here first."""

    def ack_home(ack) -> None:
        ack()

    def busbot_home_opened(event: dict, client: WebClient) -> None:
        if event.get("tab", "home") != "home":
            return  # the Messages tab
        try:
            publish(client, rt, event["user"])
        except Exception:  # noqa: BLE001 - the adapter's boundary: logged, the home stays as it was
            log.exception("publishing the App Home failed")

    def busbot_home_click(body: dict, client: WebClient) -> None:
        clicked, user = body["actions"][0], body["user"]["id"]
        try:
            # no channel: a click in the home is not a click in some other channel
            reply = router.run_action(clicked["action_id"], clicked.get("value", ""), rt, user, None)
            tell_channel(client, rt, clicked["action_id"], clicked.get("value", ""), reply)
            publish(client, rt, user, reply)
        except Exception:  # noqa: BLE001 - the adapter's boundary: logged, the home stays as it was
            log.exception("a click in the App Home failed")

    app.event("app_home_opened")(ack=ack_home, lazy=[busbot_home_opened])
    app.action(re.compile(".*"), matchers=[in_home])(ack=ack_home, lazy=[busbot_home_click])
