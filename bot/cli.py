"""`busbot <subcommand>`: the one executable. Each subcommand lives in its own module,
which exposes `add_parser(subparsers)`; this file only lists them."""
from __future__ import annotations

import argparse
import importlib
import logging
import sys
from importlib.metadata import PackageNotFoundError, version

from bot.mask import Masker, use_for_logs
from bot.redact import install_log_redaction, redact_text
from bot.redis_errors import describe, is_unavailable
from bot.settings import SettingsError, check_redis_url, load_settings, shown_value

DESCRIPTION = ("Chat-ops for a Redis Streams event bus: health, DLQ triage, guarded actions, "
               "alerts. With no subcommand it runs the console.")

# module path -> provides add_parser(subparsers) registering one or more subcommands
# options of the subcommands that name a Redis URL
URL_OPTIONS = {"redis": "--redis", "redis_url": "--redis-url"}

SUBCOMMAND_MODULES = [
    "bot.console.cli",
    "bot.slack.cli",
    "bot.eventbus.cli",
    "bot.alerts.cli",
]


def busbot_version() -> str:
    try:
        return version("busbot")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown (not installed)"


def alias_redis_url(sub: argparse._SubParsersAction) -> None:
    """Every subcommand that takes `--redis URL` also takes `--redis-url URL`, unlisted
    (older scripts used it)."""
    for parser in sub.choices.values():
        redis = next((a for a in parser._actions if "--redis" in a.option_strings), None)
        if redis is not None and "--redis-url" not in parser._option_string_actions:
            parser.add_argument("--redis-url", dest=redis.dest, metavar="URL", help=argparse.SUPPRESS)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="busbot", description=DESCRIPTION)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("--version", action="version", version=f"busbot {busbot_version()}")
    sub = parser.add_subparsers(dest="subcommand")
    for name in SUBCOMMAND_MODULES:
        importlib.import_module(name).add_parser(sub)
    alias_redis_url(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    install_log_redaction()
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not args.verbose:  # the scheduler logs every run of every job at INFO: one line each 2 s
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
    if not getattr(args, "func", None):
        args = parser.parse_args([*(argv or sys.argv[1:]), "console"])
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"busbot: bad setting {exc}", file=sys.stderr)
        return getattr(args, "config_error_exit", 2)  # `check`: 3, a monitor's UNKNOWN
    use_for_logs(Masker.from_settings(settings))  # BUS_MASK_PATTERNS apply to log records too
    problem = check_url_options(args)
    if problem:
        print(f"busbot: {problem}", file=sys.stderr)
        return getattr(args, "config_error_exit", 2)
    try:
        return int(args.func(settings, args) or 0)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the last boundary: one sentence on the terminal, never a trace
        where = next((getattr(args, a) for a in URL_OPTIONS if getattr(args, a, None)), None)
        print(f"busbot: {failure_sentence(exc, where or settings.redis_url or 'redis')}", file=sys.stderr)
        logging.getLogger("busbot").debug("%s failed", args.subcommand, exc_info=True)
        return 1


def check_url_options(args: argparse.Namespace) -> str | None:
    """A bad `--redis URL` is refused here, like a bad REDIS_URL, with the value masked."""
    for attr, flag in URL_OPTIONS.items():
        value = getattr(args, attr, None)
        if value is None:
            continue
        try:
            setattr(args, attr, check_redis_url(value))
        except ValueError as exc:
            return f"bad {flag} value: {exc} (got {shown_value(value)})."
    return None


def failure_sentence(exc: BaseException, where: str) -> str:
    """What a subcommand that failed unexpectedly prints: the cause, credentials masked."""
    if is_unavailable(exc):
        sentence, hint = describe(exc, where)
        return f"{sentence} {hint}"
    detail = redact_text(str(exc)).strip().splitlines()
    return (f"stopped on an unexpected error ({type(exc).__name__}"
            + (f": {detail[0][:200]}" if detail else "") + "). Run again with -v for the details.")


if __name__ == "__main__":
    sys.exit(main())
