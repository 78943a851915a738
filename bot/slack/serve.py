"""Running the bot: Bolt over HTTP (or Socket Mode), health and metrics on $PORT, and the
background jobs, until SIGTERM or Ctrl-C."""
from __future__ import annotations

import logging
import signal

import waitress
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.error import BoltError
from slack_sdk import WebClient

from bot.alerts.schedule import start_alerts
from bot.bus import Bus
from bot.settings import Settings
from bot.slack.alert_notifier import SlackNotifier
from bot.slack.app import build_app
from bot.slack.poster import SlackPoster
from bot.slack.web import WebApp

log = logging.getLogger(__name__)

THREADS = 16  # HTTP threads; each is busy only until its request is acked


class StartupError(Exception):
    """`serve` cannot start; the message is one line for the operator."""


def start_background(settings: Settings, bus: Bus, client: WebClient):
    """The place scheduled jobs start inside `busbot serve` (alert checks, reminders).

    Start an APScheduler `BackgroundScheduler` here and return it (or anything with
    `shutdown(wait=False)`); `serve()` shuts it down on SIGTERM. `client` posts to Slack
    (wrap it in `bot.slack.poster.SlackPoster`). Returns None while nothing is scheduled.
    """
    return start_alerts(bus, SlackNotifier(SlackPoster(client)))


def _stop(signum, frame):
    raise SystemExit(0)  # waitress's loop catches it and drains its workers


def serve(settings: Settings, bus: Bus, port: int) -> int:
    try:
        slack_app = build_app(settings, bus)
    except BoltError as exc:
        raise StartupError(f"Slack refused the start-up check ({exc}); check SLACK_BOT_TOKEN.") from None
    socket_mode = None
    if settings.slack_app_token is not None:
        socket_mode = SocketModeHandler(slack_app, settings.slack_app_token.get_secret_value())
    try:
        server = waitress.create_server(WebApp(bus, None if socket_mode else slack_app),
                                        host="0.0.0.0", port=port, threads=THREADS)
    except OSError as exc:
        raise StartupError(f"cannot listen on port {port}: {exc.strerror}.") from None
    signal.signal(signal.SIGTERM, _stop)
    background = start_background(settings, bus, slack_app.client)
    try:
        if socket_mode:
            socket_mode.connect()
        log.info("busbot serving %s on port %d (Redis: %s)",
                 "Socket Mode, health and metrics" if socket_mode else "/slack/events, health and metrics",
                 port, bus.where)
        server.run()
    finally:
        log.info("busbot stopping")
        server.close()
        if socket_mode:
            socket_mode.close()
        if background is not None:
            background.shutdown(wait=False)
    return 0
