"""`busbot <subcommand>`: the one executable. Each subcommand lives in its own module,
which exposes `add_parser(subparsers)`; this file only lists them."""
from __future__ import annotations

import argparse
import importlib
import logging
import sys

from bot.settings import SettingsError, load_settings

DESCRIPTION = ("Chat-ops for a Redis Streams event bus: health, DLQ triage, guarded actions, "
               "alerts. With no subcommand it runs the console.")

# module path -> provides add_parser(subparsers) registering one or more subcommands
SUBCOMMAND_MODULES = [
    "bot.console.cli",
    "bot.slack.cli",
    "bot.eventbus.cli",
    "bot.alerts.cli",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="busbot", description=DESCRIPTION)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="subcommand")
    for name in SUBCOMMAND_MODULES:
        importlib.import_module(name).add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not getattr(args, "func", None):
        args = parser.parse_args([*(argv or sys.argv[1:]), "console"])
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"busbot: bad setting {exc}", file=sys.stderr)
        return 2
    return int(args.func(settings, args) or 0)


if __name__ == "__main__":
    sys.exit(main())
