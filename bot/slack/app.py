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
from bot.slack.message import for_slack
from bot.slack.offload import CommandPool
from commands import router

log = logging.getLogger(__name__)

# Commands worked on at once; more wait for a thread (their ack does not). Kept small on
# purpose: the work shares this process's GIL with the acks, so more threads answer no
# sooner but slow the acks (bench/bench_ack.py: p99 ack 43-65 ms with 4-8, 117-145 ms
# with 16-32, under 20 concurrent commands on a slow Redis).
WORKERS = 4
RERUN_ACTIONS = ("bus_run", "bus_share")  # buttons whose value is command text
VERIFIED = "busbot_verified"  # in the Bolt context once a request passed Bolt's checks
SORRY = "Sorry, busbot could not answer that: something went wrong on our side and it is logged. Try again in a moment."


def _secret(value) -> str | None:
    return value.get_secret_value() if value is not None else None


def web_client(settings: Settings) -> WebClient:
    """A Web API client; `SLACK_API_URL` points it at a stand-in (tests)."""
    kwargs = {"token": _secret(settings.slack_bot_token)}
    if settings.slack_api_url:
        url = settings.slack_api_url
        kwargs["base_url"] = url if url.endswith("/") else url + "/"
    return WebClient(**kwargs)


def build_app(settings: Settings, rt: Runtime, pool: CommandPool | None = None,
              client: WebClient | None = None) -> App:
    """The Bolt app; `auth.test` runs once here, so a bad token fails at start-up."""
    app = App(client=client or web_client(settings), signing_secret=_secret(settings.slack_signing_secret) or "",
              process_before_response=True,
              listener_executor=ThreadPoolExecutor(WORKERS, thread_name_prefix="busbot-work"))
    register(app, rt, pool)
    return app


def register(app: App, rt: Runtime, pool: CommandPool | None = None) -> None:
    app.command("/bus")(ack=ack_now, lazy=[_reported(answer_command, rt, pool)])
    app.action(re.compile(".*"))(ack=ack_now, lazy=[_reported(answer_action, rt, pool)])
    app.use(mark_verified)  # runs after Bolt's own middleware, its signature check included
    app.error(on_error)


def mark_verified(context: BoltContext, next) -> None:
    """Reached only by requests that passed Bolt's checks (the signature among them)."""
    context[VERIFIED] = True
    next()


def ack_now(ack) -> None:
    """An empty ack: the answer follows through response_url."""
    ack()


def answer_command(body: dict, respond, rt: Runtime, pool: CommandPool | None) -> None:
    text, user = body.get("text", ""), body["user_id"]
    if pool and router.is_read_only(text):
        reply, message = pool.answer(text, user)
    else:
        reply = router.run(text, rt, user)
        message = render_reply(reply)
    respond(**for_slack(reply, message))


def answer_action(body: dict, respond, rt: Runtime, pool: CommandPool | None) -> None:
    clicked = body["actions"][0]
    action, value, user = clicked["action_id"], clicked.get("value", ""), body["user"]["id"]
    if pool and action in RERUN_ACTIONS and router.is_read_only(value):
        reply, message = pool.answer(value, user, action)
    else:
        channel = (body.get("channel") or {}).get("id", "")  # approvals count only where they were asked
        reply = router.run_action(action, value, rt, user, channel)
        message = render_reply(reply)
    respond(**for_slack(reply, message), replace_original=reply.replaces)


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
    def run(body: dict, respond) -> None:
        try:
            work(body, respond, rt, pool)
        except Exception as exc:  # noqa: BLE001 - handed to the one boundary, not silenced
            on_error(exc, respond, log)
    run.__name__ = run.__qualname__ = work.__name__  # Bolt tells lazy functions apart by name
    return run
