"""Running the bot: the HTTP server on $PORT (Slack's requests unless Socket Mode, health,
metrics, probes, the dashboard), Slack's start-up check, and the background work, until
SIGTERM or Ctrl-C.

The HTTP server comes up first: health, metrics and `/healthz` answer while `auth.test` is
still being retried (`/readyz` says not ready until Slack and Redis both answer). SIGTERM
stops accepting connections, answers the requests in flight, then stops the job runner,
which releases its lease so another process resumes its job at once.

With several environments (bot/environments.py) each has its own runtime, alert checks and
outbox; Slack, the HTTP server and the probes are shared, and answer for the first one.
"""
from __future__ import annotations

import logging
import signal
import sys
from collections.abc import Callable

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient

from bot.actions.policy import GroupDirectory
from bot.alerts.outbox import OutboxNotifier
from bot.alerts.schedule import start_alerts
from bot.bus import Bus
from bot.environments import BadgedTransport, Environments, badge
from bot.notify import Notifier, NullNotifier, Transport
from bot.runtime import Runtime, build_runtime
from bot.settings import Settings
from bot.slack.app import build_app, web_client
from bot.slack.groups import RedisMemory, SlackGroups
from bot.slack.offload import CommandPool, pool_for
from bot.slack.poster import SlackPoster
from bot.slack.startup import SlackStarter
from bot.slack.transport import SlackTransport
from bot.web.app import create_app
from bot.web.server import HttpServer
from bot.web.slack import SlackGate

log = logging.getLogger(__name__)

# Command work runs in threads of this process; a thread acking a request waits for the GIL
# at most this long per hand-over (CPython's default is 5 ms), so CPU-bound work cannot
# hold acks back by tens of milliseconds at every step.
GIL_SWITCH_INTERVAL_S = 0.0005
JOIN_S = 10.0  # how long shutdown waits for the job runner to put its job down


class StartupError(Exception):
    """`serve` cannot start; the message is one line for the operator."""


class Background:
    """What `busbot serve` runs beside the HTTP server, stopped together on shutdown."""

    def __init__(self, scheduler, rt: Runtime):
        self.scheduler, self.rt = scheduler, rt

    def shutdown(self, wait: bool = False) -> None:
        """`wait`: until the job runner has put its job down (and released its lease)."""
        self.scheduler.shutdown(wait=False)
        self.rt.stop()
        if wait and self.rt.jobs is not None:
            self.rt.jobs.join(JOIN_S)


class Backgrounds:
    """One `Background` per environment, shut down together."""

    def __init__(self, parts: list[Background]):
        self.parts = parts

    def shutdown(self, wait: bool = False) -> None:
        for part in self.parts:
            part.shutdown(wait=False)
        if wait:
            for part in self.parts:
                if part.rt.jobs is not None:
                    part.rt.jobs.join(JOIN_S)


def progress_notifier(bus: Bus) -> Notifier:
    """Job progress and follow-ups go through the outbox to BUS_ACTIONS_CHANNEL (default:
    BUS_ALERT_CHANNEL), or nowhere."""
    channel = bus.settings.bus_actions_channel or bus.settings.bus_alert_channel
    return OutboxNotifier(bus, channel) if channel else NullNotifier()


def start_background(settings: Settings, rt: Runtime, client: WebClient) -> Background:
    """Scheduled work inside `busbot serve` beside the runtime's job runner: the alert
    checks, and the outbox's deliveries to Slack (APScheduler). With several environments,
    each has its own, and what it posts names its environment first."""
    transport: Transport = SlackTransport(SlackPoster(client))
    if rt.envs is not None and rt.envs.multi:
        transport = BadgedTransport(transport, badge(rt.environment, rt.protected))
    return Background(start_alerts(rt.bus, transport), rt)


def build_environments(default: Bus, others: dict[str, Bus], groups: GroupDirectory,
                       channels: dict[str, str] | None = None, protected: frozenset[str] = frozenset(),
                       start_jobs: bool = True) -> Environments:
    """One runtime (job runner, notifier) per environment; `default` first."""
    buses = {default.settings.bus_environment_name: default, **others}
    return Environments({name: build_runtime(bus, progress_notifier(bus), groups=groups, start_jobs=start_jobs)
                         for name, bus in buses.items()}, channels or {}, protected)


_QUIET = logging.getLogger("bot.slack.serve.auth_check")
_QUIET.disabled = True


def check_token(client: WebClient) -> None:
    """`auth.test` once, without the client's own retries and error logs; raises as it does."""
    WebClient(token=client.token, base_url=client.base_url, timeout=10, logger=_QUIET,
              retry_handlers=[]).auth_test()


class SlackSide:
    """Slack's half of the process: the Bolt app once `auth.test` succeeds (retried in the
    background), served over HTTP through `gate`, or over Socket Mode."""

    def __init__(self, settings: Settings, rt: Runtime, pool: CommandPool | None, client: WebClient,
                 on_fatal: Callable[[], None]):
        self.settings, self.rt, self.pool, self.client = settings, rt, pool, client
        app_token, secret = settings.slack_app_token, settings.slack_signing_secret
        self.app_token = app_token.get_secret_value() if app_token is not None else None
        self.gate = None if self.app_token else SlackGate(secret.get_secret_value() if secret else "")
        self.socket_mode: SocketModeHandler | None = None
        self.starter = SlackStarter(self._connect, self._ready, on_fatal)

    def _connect(self) -> App:
        check_token(self.client)  # quietly: the starter logs one line per failed try
        app = build_app(self.settings, self.rt, self.pool, self.client)  # auth.test again, for Bolt
        if self.app_token:
            handler = SocketModeHandler(app, self.app_token)
            handler.connect()
            self.socket_mode = handler
        return app

    def _ready(self, app) -> None:
        if self.gate is not None:
            self.gate.open(app)

    def ready(self) -> bool:
        return self.starter.ready.is_set()

    def close(self) -> None:
        self.starter.stop()
        if self.socket_mode is not None:
            self.socket_mode.close()


def serve(settings: Settings, bus: Bus, port: int, others: dict[str, Bus] | None = None,
          channels: dict[str, str] | None = None, protected: frozenset[str] = frozenset()) -> int:
    """`bus`: the default environment's; `others`: the other environments' by name."""
    # read-only commands go to worker processes that know one Redis: one environment only
    pool = None if others else pool_for(bus)
    client = web_client(settings)
    groups = SlackGroups(client, memory=RedisMemory(bus))  # roles from Slack user groups
    envs = build_environments(bus, others or {}, groups, channels, protected)  # resumes orphaned jobs now
    rt = envs.default_runtime()
    stop_server: list[Callable[[], None]] = []  # filled once the server exists

    def refused() -> None:  # Slack refused the token: stop serving, then say why
        for stop in stop_server:
            stop()
    slack = SlackSide(settings, rt, pool, client, on_fatal=refused)
    try:
        server = HttpServer(create_app(bus, slack.gate, slack_ready=slack.ready, rt=rt), port=port)
    except OSError as exc:
        envs.stop()
        if pool:
            pool.shutdown()
        raise StartupError(f"cannot listen on port {port}: {exc.strerror}.") from None
    stop_server.append(server.stop)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, frame: server.stop())
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    background = Backgrounds([start_background(settings, env_rt, client) for env_rt in envs.runtimes.values()])
    slack.starter.start()
    try:
        log.info("busbot serving %s on port %d (Redis: %s)",
                 "Socket Mode, health and metrics" if slack.app_token else "/slack/events, health and metrics",
                 port, ", ".join(f"{name}: {r.bus.where}" for name, r in envs.runtimes.items())
                 if envs.multi else bus.where)
        server.run()
    finally:
        log.info("busbot stopping")
        slack.close()
        background.shutdown(wait=True)
        if pool:
            pool.shutdown(wait=True)
    if slack.starter.fatal:
        raise StartupError(slack.starter.fatal)
    return 0
