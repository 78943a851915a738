"""`busbot check`: the bus's status once, from a shell or a cron job / external monitor.

The same status as `/bus health` and `GET /events/health` (bot.services.status): every
metric judged against its thresholds right now (no hold time, no Slack, writes nothing).
Exits like a Nagios/Icinga plugin: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. UNKNOWN means
the check could not judge the bus at all: no Redis configured, a bad setting, Redis
unreachable or refusing busbot's credentials. A single metric without data is printed as
unknown and does not change the exit code.
"""
from __future__ import annotations

import json
import logging

import redis

from bot.connection import open_bus
from bot.redis_errors import describe, is_unavailable
from bot.services.health import get_health
from bot.settings import Settings

log = logging.getLogger(__name__)
EXIT = {"healthy": 0, "warning": 1, "critical": 2, "unknown": 3}
UNKNOWN = 3  # also what `busbot` answers for a bad setting or --redis value (config_error_exit)


def add_parser(sub) -> None:
    p = sub.add_parser("check", help="check the bus once; exit 0 ok, 1 warning, 2 critical, "
                                     "3 unknown (no Redis, bad settings, wrong password)")
    p.add_argument("--redis", metavar="URL", help="Redis to check (default: $REDIS_URL)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of lines")
    p.set_defaults(func=run_check_command, config_error_exit=UNKNOWN)


def run_check_command(settings: Settings, args) -> int:
    url = args.redis or settings.redis_url
    if not url:
        _unknown(args, "no Redis to check: set REDIS_URL or pass --redis URL.")
        return UNKNOWN
    try:
        bus = open_bus(settings, url)
        h = get_health(bus)
    except (redis.RedisError, OSError, ValueError) as exc:
        if is_unavailable(exc):
            sentence, hint = describe(exc, url)
            _unknown(args, f"{sentence} {hint}")
        else:
            log.debug("check failed", exc_info=True)
            _unknown(args, f"Redis answered with an error ({type(exc).__name__}); run with -v "
                           "for the details.")
        return UNKNOWN
    items = [{"rule": c.rule, "title": c.title, "level": c.level, "value": c.text,
              **({} if c.condition else {"warn": c.warn, "crit": c.crit}), "unit": c.unit,
              "note": c.note} for c in h.checks]
    _emit(args, h.status, items)
    return EXIT[h.status]


def _unknown(args, sentence: str) -> None:
    _emit(args, "unknown", [{"rule": "redis", "title": "Redis", "level": "unknown", "value": sentence}])


def _emit(args, status: str, items: list[dict]) -> None:
    if args.json:
        print(json.dumps({"status": status, "checks": items}))
        return
    print(f"busbot check: {status.upper()}")
    for i in items:
        limits = ""
        if "warn" in i:
            unit = " s" if i.get("unit") in ("s", "age") else ""
            limits = f" (warning > {i['warn']:g}{unit}, critical > {i['crit']:g}{unit})"
        note = f" [{i['note']}]" if i.get("note") else ""
        print(f"  {i['level'].upper():8} {i.get('title', i['rule'])}: {i['value']}{limits}{note}")
