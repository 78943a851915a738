"""Trends of the bus for `/bus health`, `/bus dlq` and the App Home: the samples the alert
checks keep (bot.services.history) drawn as one line each (`DLQ 220 -> 620 in 10m ▁▂▃▅▇`,
bot.sparkline). No samples (no `busbot serve` running checks yet) means no trend lines."""
from __future__ import annotations

import logging

import redis

from bot.bus import Bus
from bot.services import history
from bot.services.history import DAY_MS, HOUR_MS, Sample
from bot.sparkline import trend

log = logging.getLogger(__name__)

MAX_GROUPS = 5  # lag lines shown, the busiest groups first


def samples(bus: Bus, now: int, window_ms: int) -> list[Sample]:
    """The history's samples of the window; none when the history cannot be read as one."""
    try:
        return history.day(bus, now, window_ms)
    except redis.ResponseError as exc:  # a key of another type under the history's name
        log.warning("history not readable: %s", str(exc)[:120])
        return []


def lines(found: list[Sample], now: int, window_ms: int = HOUR_MS, buckets: int = 12,
          metrics: tuple[str, ...] = ("dlq", "failed", "lag")) -> list[dict]:
    """One line per metric that moved or held over the window: `{"metric", "label", "text",
    "bars", "first", "last"}`; `lag` stands for every group's lag (busiest first)."""
    wanted: list[tuple[str, str]] = []
    for m in metrics:
        if m == "dlq":
            wanted.append(("dlq", "DLQ"))
        elif m == "failed":
            wanted.append(("failed", "failed/hr"))
        elif m == "lag":
            last = found[-1].lags if found else {}
            groups = sorted(history.groups(found), key=lambda g: -(last.get(g) or 0))[:MAX_GROUPS]
            wanted += [(f"lag:{g}", f"lag {g}") for g in groups]
    out = []
    for metric, label in wanted:
        t = trend(history.points(found, metric), now, window_ms, buckets)
        if t is not None:
            out.append({"metric": metric, "label": label, "text": t.text(label), "bars": t.bars,
                        "first": t.first, "last": t.last})
    return out


def last_hour(bus: Bus, now: int, metrics: tuple[str, ...] = ("dlq", "failed", "lag")) -> list[dict]:
    return lines(samples(bus, now, HOUR_MS), now, HOUR_MS, 12, metrics)


def last_day(bus: Bus, now: int, metrics: tuple[str, ...] = ("dlq", "failed", "lag")) -> list[dict]:
    return lines(samples(bus, now, DAY_MS), now, DAY_MS, 24, metrics)
