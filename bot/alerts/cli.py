"""`busbot check`: the alert checks once, from a shell or a cron job / external monitor.

Judges each metric against its thresholds right now (no hold time, no Slack, writes
nothing) and exits like a Nagios plugin: 0 all healthy, 1 a warning, 2 critical or Redis
unreachable. Unknown values are printed as unknown and do not change the exit code.
"""
from __future__ import annotations

import json
import sys

import redis

from bot.alerts.checks import measure
from bot.alerts.overview import instant_levels, overall
from bot.alerts.view import value_text
from bot.connection import open_bus
from bot.settings import Settings

EXIT = {"healthy": 0, "warning": 1, "critical": 2}


def add_parser(sub) -> None:
    p = sub.add_parser("check", help="check the alert thresholds once; exit 0 healthy, 1 warning, 2 critical")
    p.add_argument("--redis", metavar="URL", help="Redis to check (default: $REDIS_URL)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of lines")
    p.set_defaults(func=run_check_command)


def run_check_command(settings: Settings, args) -> int:
    url = args.redis or settings.redis_url
    if not url:
        print("busbot check: no Redis to check: set REDIS_URL or pass --redis URL.", file=sys.stderr)
        return 2
    bus = open_bus(settings, url)
    try:
        rows = instant_levels(bus, measure(bus))
    except (redis.ConnectionError, redis.TimeoutError):
        _emit(args, "critical", [{"rule": "redis", "level": "critical",
                                  "value": f"Redis is not answering at {bus.where}"}])
        return 2
    items = [{"rule": rule.id, "title": rule.title, "level": level, "value": value_text(rule, m.value),
              "warn": rule.warn, "crit": rule.crit, "note": m.note} for rule, m, level in rows]
    status = overall([i["level"] for i in items])
    _emit(args, status, items)
    return EXIT[status]


def _emit(args, status: str, items: list[dict]) -> None:
    if args.json:
        print(json.dumps({"status": status, "checks": items}))
        return
    print(f"busbot check: {status.upper()}")
    for i in items:
        limits = f" (warning > {i['warn']:g}, critical > {i['crit']:g})" if "warn" in i else ""
        note = f" [{i['note']}]" if i.get("note") else ""
        print(f"  {i['level'].upper():8} {i.get('title', i['rule'])}: {i['value']}{limits}{note}")
