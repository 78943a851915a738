"""The Bolt app: `/bus` commands and button clicks -> `commands.router` -> Block Kit.

Acks happen in the HTTP request thread before any work (`process_before_response=True`
with the work as a lazy listener), so Slack's 3-second limit holds however long Redis takes
and however many commands run at once: the work waits for a pool thread, the ack never does.
"""
from __future__ import annotations

import logging
import re
from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.render import render_reply
from bot.runtime import Runtime
from bot.settings import Settings
from bot.slack import home, modals, shortcuts
from bot.slack.message import for_slack
from bot.slack.offload import CommandPool
from commands import router
from commands.reply import Reply

log = logging.getLogger(__name__)

# Commands worked on at once; more wait for a thread (their ack does not). Kept small on
# purpose: the work shares this process's GIL with the acks, so more threads answer no
# sooner but slow the acks (bench/bench_ack.py: p99 ack 43-65 ms with 4-8, 117-145 ms
# with 16-32, under 20 concurrent commands on a slow Redis). With a worker pool, one more
# thread per answer the pool gives at once: such a thread only waits for the worker.
WORKERS = 4
RERUN_ACTIONS = ("bus_run", "bus_share")  # buttons whose value is command text
FORMS = "^bus_(replay|reprocess|edit)_form$"  # callback ids of busbot's forms (bot/slack/modals.py)
FORM_INPUT = "value"  # action id of the fields of busbot's forms
VERIFIED = "busbot_verified"  # in the Bolt context once a request passed Bolt's checks
SORRY = "Sorry, busbot could not answer that: something went wrong on our side and it is logged. Try again in a moment."


def _secret(value) -> str | None:
    return value.get_secret_value() if value is not None else None


def web_client(settings: Settings) -> WebClient:
    """A Web API client; `SLACK_API_URL` points it at a stand-in (tests)."""
    token, url = _secret(settings.slack_bot_token), settings.slack_api_url
    if url:
        return WebClient(token=token, base_url=url if url.endswith("/") else url + "/")
    return WebClient(token=token)


def build_app(settings: Settings, rt: Runtime, pool: CommandPool | None = None,
              client: WebClient | None = None) -> App:
    """The Bolt app; `auth.test` runs once here, so a bad token fails at start-up."""
    app = App(client=client or web_client(settings), signing_secret=_secret(settings.slack_signing_secret) or "",
              process_before_response=True,
              listener_executor=ThreadPoolExecutor(WORKERS + (pool.capacity if pool else 0),
                                                   thread_name_prefix="busbot-work"))
    register(app, rt, pool)
    return app


def register(app: App, rt: Runtime, pool: CommandPool | None = None) -> None:
    home.register(app, rt)  # before the catch-all action listener: clicks in the home go there
    app.command("/bus")(ack=ack_now, lazy=[_reported(answer_command, rt, pool)])
    app.action(re.compile(".*"))(ack=ack_now, lazy=[_reported(answer_action, rt, pool)])
    app.view(re.compile(FORMS))(ack=_form_ack(rt), lazy=[_reported(answer_form, rt, pool)])
    app.shortcut(shortcuts.CALLBACK_ID)(ack=ack_now, lazy=[_reported(answer_shortcut, rt, pool)])
    app.use(mark_verified)  # runs after Bolt's own middleware, its signature check included
    app.error(on_error)


def mark_verified(context: BoltContext, next) -> None:
    """Reached only by requests that passed Bolt's checks (the signature among them)."""
    context[VERIFIED] = True
    next()


def ack_now(ack) -> None:
    """An empty ack: the answer follows through response_url."""
    ack()


def answer_command(body: dict, respond, rt: Runtime, pool: CommandPool | None, client: WebClient) -> None:
    text, user = body.get("text", ""), body["user_id"]
    if pool and router.is_read_only(text):
        reply, message = pool.answer(text, user)
    else:
        reply = router.run(text, rt, user, body.get("channel_id") or None)  # the channel's environment
        if _opened_form(reply, body, client, body.get("channel_id", "")):
            return
        message = render_reply(reply)
    respond(**for_slack(reply, message))


def answer_action(body: dict, respond, rt: Runtime, pool: CommandPool | None, client: WebClient) -> None:
    clicked = body["actions"][0]
    action, value, user = clicked["action_id"], clicked.get("value", ""), body["user"]["id"]
    if action == FORM_INPUT:  # a field of an open busbot form: the submission is what counts
        return
    if pool and action in RERUN_ACTIONS and router.is_read_only(value):
        reply, message = pool.answer(value, user, action)
    else:
        channel = (body.get("channel") or {}).get("id", "")  # approvals count only where they were asked
        reply = router.run_action(action, value, rt, user, channel)
        if _opened_form(reply, body, client, channel):
            return
        message = render_reply(reply)
    if not body.get("response_url"):  # a click outside a message (a form, the app's home): answer privately
        modals.post_privately(client, "", user, reply)
        return
    respond(**for_slack(reply, message), replace_original=reply.replaces)


def _opened_form(reply: Reply, body: dict, client: WebClient, channel: str) -> bool:
    """Open the form a reply asks for (`views.open` needs the request's trigger id)."""
    form, trigger = reply.context.get("form"), body.get("trigger_id")
    if not form or not trigger:
        return False
    env = reply.context.get("env_badge")
    if env:  # several environments: the submission runs where the form was asked for
        form = {**form, "env": env["name"]}
    modals.open_form(client, trigger, form, channel)
    return True


def _form_ack(rt: Runtime):
    """A submitted form is checked before the ack: mistakes go back on their fields."""
    def ack_form(ack, body: dict) -> None:
        view = body.get("view") or {}
        try:
            errors, _ = modals.check(modals.CALLBACKS[view["callback_id"]], view, rt.bus.clock())
        except Exception:  # noqa: BLE001 - the form closes; the lazy answer says what went wrong
            log.exception("checking a submitted form failed")
            errors = {}
        if errors:
            ack(response_action="errors", errors=errors)
        else:
            ack()
    return ack_form


def answer_form(body: dict, respond, rt: Runtime, pool: CommandPool | None, client: WebClient) -> None:
    """A form that passed its checks: run it and post the preview to the submitter."""
    view, user = body["view"], body["user"]["id"]
    kind = modals.CALLBACKS[view["callback_id"]]
    errors, values = modals.check(kind, view, rt.bus.clock())
    if errors:  # the ack sent them back to the form
        return
    modals.post_privately(client, modals.metadata(view).get("channel", ""), user,
                          modals.submitted(kind, view, values, rt, user))


def answer_shortcut(body: dict, respond, rt: Runtime, pool: CommandPool | None, client: WebClient) -> None:
    """"Look up event in busbot" on a message: `event <id>`, privately."""
    channel = (body.get("channel") or {}).get("id", "")
    here = (rt.envs.for_channel(channel) if rt.envs is not None else None) or rt  # the channel's environment
    reply = shortcuts.lookup(shortcuts.message_text(body.get("message") or {}), here, body["user"]["id"])
    reply.visibility, reply.shareable = "private", False
    if respond is None or not respond.response_url:
        modals.post_privately(client, channel, body["user"]["id"], reply)
        return
    respond(**for_slack(reply, render_reply(reply)), replace_original=False)


def on_error(error: Exception, respond, logger: logging.Logger, context: BoltContext | None = None) -> None:
    """The one error boundary of the adapter: the trace to the log, a sentence to the user.
    A request that failed before it was verified gets no answer: its `response_url` is
    whatever its sender wrote. (`context` is None for lazy listeners: verified requests.)"""
    logger.error("busbot listener failed", exc_info=error)
    verified = context is None or context.get(VERIFIED, False)
    if verified and respond is not None and respond.response_url:
        respond(text=SORRY, response_type="ephemeral", replace_original=False)


def _reported(work, rt: Runtime, pool: CommandPool | None):
    """Bind the runtime, and route errors to `on_error`: lazy listeners run outside Bolt's handler."""
    def run(body: dict, respond, client: WebClient) -> None:
        try:
            work(body, respond, rt, pool, client)
        except Exception as exc:  # noqa: BLE001 - handed to the one boundary, not silenced
            on_error(exc, respond, log)
    run.__name__ = run.__qualname__ = work.__name__  # Bolt tells lazy functions apart by name
    return run
