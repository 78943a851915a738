"""`busbot serve`: the Slack app on $PORT (HTTP, or Socket Mode with SLACK_APP_TOKEN)."""
from __future__ import annotations

import logging
import os
import sys

from bot.bus import Bus
from bot.connection import embedded, open_bus
from bot.environments import plan
from bot.settings import Settings, SettingsError, unknown_bus_variables

log = logging.getLogger(__name__)


def add_parser(sub) -> None:
    p = sub.add_parser("serve", help="run the Slack app, the admin API, the dashboard, the probes "
                                     "and /metrics on $PORT")
    p.add_argument("--port", type=int, help="HTTP port (default: $PORT, else 3000)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--redis", metavar="URL", help="Redis to watch (default: $REDIS_URL)")
    where.add_argument("--demo", action="store_true", help="run on an embedded Redis seeded with demo data")
    p.set_defaults(func=run_serve)


def missing(settings: Settings, args) -> str | None:
    """What keeps `serve` from starting, as one line; None when it can start."""
    if not (args.redis or settings.redis_url or args.demo or os.environ.get("BUS_ENVIRONMENTS", "").strip()):
        return ("no Redis to watch: set REDIS_URL or BUS_ENVIRONMENTS (or pass --redis URL), or pass --demo for "
                "the embedded demo Redis.")
    if args.redis and not args.redis.startswith(("redis://", "rediss://", "unix://")):
        return f"--redis must start with redis://, rediss:// or unix:// (got {args.redis!r})."
    needed = ["SLACK_BOT_TOKEN"] + ([] if settings.slack_app_token else ["SLACK_SIGNING_SECRET"])
    unset = [name for name in needed if getattr(settings, name.lower()) is None]
    if unset:
        mode = "Socket Mode" if settings.slack_app_token else "HTTP mode"
        return f"{mode} needs {' and '.join(unset)} (from the Slack app's settings page)."
    return None


def token_problem(settings: Settings) -> str | None:
    """BUS_API_TOKENS that are not name:token pairs, as one line that shows no token."""
    from bot.web.tokens import TokenFormatError, parse_tokens

    raw = settings.bus_api_tokens
    try:
        parse_tokens(raw.get_secret_value() if raw is not None else "")
    except TokenFormatError as exc:
        return f"BUS_API_TOKENS: {exc}; write it as name:token,name:token."
    return None


def demo_bus(settings: Settings) -> Bus:
    """The embedded Redis seeded with the demo bus (`bot.demo`, loaded only for --demo)."""
    from bot.demo import seed

    bus = Bus(embedded(), settings, where="embedded demo Redis")
    seed(bus)
    return bus


def open_environments(settings: Settings, url: str | None = None
                      ) -> tuple[Bus, dict[str, Bus], dict[str, str], frozenset[str]]:
    """The default environment's bus, the others' by name, the channel defaults and the
    protected environments (bot/environments.py); SettingsError for a bad variable."""
    envs, channels = plan(settings, redis_url=url)
    buses = {env.name: open_bus(env.settings) for env in envs}
    first = envs[0].name
    return (buses.pop(first), buses, channels, frozenset(env.name for env in envs if env.protected))


def run_serve(settings: Settings, args) -> int:
    from bot.slack.serve import StartupError, serve  # Bolt and waitress load only when serving

    problem = missing(settings, args)
    if problem:
        print(f"busbot serve: {problem}", file=sys.stderr)
        return 2
    for line in unknown_bus_variables():  # a typo would otherwise be ignored without a word
        log.warning("%s", line)
    bad_tokens = token_problem(settings)
    if bad_tokens:
        print(f"busbot serve: {bad_tokens}", file=sys.stderr)
        return 2
    others: dict[str, Bus] = {}
    channels: dict[str, str] = {}
    protected: frozenset[str] = frozenset()
    if args.demo:
        bus = demo_bus(settings)
    else:
        try:
            bus, others, channels, protected = open_environments(settings, args.redis)
        except SettingsError as exc:
            print(f"busbot serve: {exc}", file=sys.stderr)
            return 2
    try:
        return serve(settings, bus, args.port or settings.port, others, channels, protected)
    except StartupError as exc:
        print(f"busbot serve: {exc}", file=sys.stderr)
        return 2
