"""`busbot console [-c CMD] [--redis URL]`: the commands in a terminal.

Attaches to `--redis`, else REDIS_URL, else an embedded Redis seeded with the demo bus.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import TextIO

import redis

from bot.bus import Bus
from bot.connection import open_bus
from bot.console.logfile import log_handler
from bot.console.repl import Console, show
from bot.demo import seed
from bot.environments import Environment, Environments, badge, plan
from bot.eventbus.demo_load import start_in_background
from bot.eventbus.retry import RetryPolicy
from bot.eventbus.worker import WorkerConfig
from bot.notify import PrintNotifier
from bot.redis_errors import describe
from bot.runtime import Runtime, build_runtime
from bot.settings import Settings, SettingsError
from commands import router

HINT = "try: health, dlq top, dlq list, groups, help  (a number runs that choice; quit to leave)"
LIVE_RATE = 5  # events/s published on the live demo bus
LIVE_FAILURES = {"crm.contact.created": 0.3, "agent.run.completed": 0.1}
LIVE_RETRY_DELAYS = (5.0, 15.0)
LIVE_HINT = "the demo bus is live: {rate} events/s, some handlers fail and retry (--no-live freezes it)"
DEFAULT_USER = "console"
SECOND_OPERATOR = "second-operator"
DEMO_OPERATORS = ("demo operators: {user} and {second}; `user {second}` acts as the other one "
                  "(to approve what {user} confirmed)")


def add_parser(sub) -> None:
    p = sub.add_parser("console", help="run the /bus commands in a terminal (the default)",
                       description=__doc__.splitlines()[0])
    p.add_argument("-c", "--command", metavar="CMD", help="run one command, print the answer and exit "
                   "(exit 1 if the answer is an error)")
    p.add_argument("--redis", metavar="URL", help="Redis to attach to (default: REDIS_URL, "
                   "else an embedded demo Redis)")
    p.add_argument("--live", action=argparse.BooleanOptionalAction, default=None,
                   help="on the demo bus, publish events and run a failing worker in the background "
                   "(default: on in a terminal, off when input is piped)")
    p.add_argument("--env", metavar="NAME", help="the environment commands run in when they name none "
                   "(BUS_ENVIRONMENTS; default: the first one); `@name` before a command picks another")
    p.add_argument("--user", metavar="NAME", default=DEFAULT_USER,
                   help="who you act as (operators are BUS_OPERATORS; default: %(default)s)")
    p.set_defaults(func=run_console)


def _log_to_file() -> None:
    """Traces go to a file, not between the answers on screen (`-v` keeps them on screen)."""
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    handler, _ = log_handler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)


def demo_settings(settings: Settings, user: str) -> Settings:
    """On the demo bus, with no operators configured, you and a second operator may act, so
    the guarded flows (confirm, then another operator's approval) can be tried."""
    if settings.operators:
        return settings
    return settings.model_copy(update={"bus_operators": f"{user},{SECOND_OPERATOR}"})


def start_live_demo(bus: Bus):
    """The demo bus moves: the event bus's own demo traffic and a worker whose handlers fail
    now and then (bot/eventbus/demo_load.py), so lag, the DLQ and p99 change as you watch."""
    config = WorkerConfig(group=bus.keys.group, consumer="demo-live",
                          retry=RetryPolicy(delays=LIVE_RETRY_DELAYS, max_attempts=3),
                          handler_timeout=5.0, claim_idle=30.0)
    return start_in_background(bus, config, LIVE_RATE, LIVE_FAILURES)


def write_line(line: str, out: TextIO | None = None) -> None:
    """A job's progress line, written in one piece: the runner's thread prints it while the
    prompt's thread may be printing an answer, and `print` writes the text and its newline
    apart (a line glued to the answer's title)."""
    out = out or sys.stdout
    out.write(line + "\n")
    out.flush()


def console_environments(settings: Settings, args: argparse.Namespace, start_jobs: bool) -> Runtime | str:
    """With BUS_ENVIRONMENTS (and no --redis): every environment's runtime, the one `--env`
    names (or the first) returned; a sentence when a variable or the name is wrong."""
    try:
        envs_plan, channels = plan(settings, redis_url=args.redis)
    except SettingsError as exc:
        return str(exc)
    def notifier(env: Environment) -> PrintNotifier:  # job progress names its environment first
        label = badge(env.name, env.protected)["text"] + " " if len(envs_plan) > 1 else ""
        return PrintNotifier(lambda line: write_line(label + line))
    envs = Environments({e.name: build_runtime(open_bus(e.settings), notifier(e), start_jobs=start_jobs)
                         for e in envs_plan}, channels, frozenset(e.name for e in envs_plan if e.protected))
    rt = envs.get(args.env)
    if rt is None:
        envs.stop()
        return envs.unknown(str(args.env))
    return rt


def run_console(settings: Settings, args: argparse.Namespace) -> int:
    if not getattr(args, "verbose", False):
        _log_to_file()
    if os.environ.get("BUS_ENVIRONMENTS", "").strip() and not args.redis:
        return _run_environments(settings, args)
    if getattr(args, "env", None) and args.env != settings.bus_environment_name:
        print(f"busbot: there is no environment named {args.env!r}; set BUS_ENVIRONMENTS to serve several.",
              file=sys.stderr)
        return 2
    demo = not (args.redis or settings.redis_url)
    if demo:
        settings = demo_settings(settings, args.user)
    bus = open_bus(settings, args.redis)
    try:
        bus.r.ping()
    except redis.RedisError as exc:
        sentence, hint = describe(exc, bus.where)
        print(f"busbot: {sentence} {hint}", file=sys.stderr)
        return 1
    if demo:
        seed(bus)
    print(f"busbot console attached to {bus.where}", file=sys.stderr)
    if args.command is not None:
        reply = router.run(args.command, build_runtime(bus, start_jobs=False), args.user)
        show(reply, sys.stdout, sys.stdout.isatty())
        return 1 if reply.template == "error" else 0
    if demo:
        print(HINT, file=sys.stderr)
        print(DEMO_OPERATORS.format(user=args.user, second=SECOND_OPERATOR), file=sys.stderr)
    live = args.live if args.live is not None else sys.stdin.isatty()
    if demo and live:
        start_live_demo(bus)
        print(LIVE_HINT.format(rate=LIVE_RATE), file=sys.stderr)
    _enable_history()
    rt = build_runtime(bus, PrintNotifier(write_line))
    return Console(rt, sys.stdout, sys.stdout.isatty(), echo=not sys.stdin.isatty(), user=args.user).loop()


def _enable_history() -> None:
    """Arrow keys and history at the prompt where the platform has readline."""
    try:
        import readline  # noqa: F401
    except ImportError:
        pass


def _run_environments(settings: Settings, args: argparse.Namespace) -> int:
    """The console on several environments (BUS_ENVIRONMENTS)."""
    rt = console_environments(settings, args, start_jobs=args.command is None)
    if isinstance(rt, str):
        print(f"busbot: {rt}", file=sys.stderr)
        return 2
    try:
        rt.bus.r.ping()
    except redis.RedisError as exc:
        sentence, hint = describe(exc, rt.bus.where)
        print(f"busbot: {sentence} {hint}", file=sys.stderr)
        return 1
    names = ", ".join(rt.envs.names) if rt.envs is not None else rt.environment
    print(f"busbot console on {rt.environment} ({rt.bus.where}); environments: {names}", file=sys.stderr)
    try:
        if args.command is not None:
            reply = router.run(args.command, rt, args.user)
            show(reply, sys.stdout, sys.stdout.isatty())
            return 1 if reply.template == "error" else 0
        _enable_history()
        return Console(rt, sys.stdout, sys.stdout.isatty(), echo=not sys.stdin.isatty(), user=args.user).loop()
    finally:
        if rt.envs is not None:
            rt.envs.stop()
