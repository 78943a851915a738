"""Recent values of each rule, kept in Redis for an hour, for the trend in alert messages
(`DLQ size 220 -> 620 in 10m ▁▂▃▅▇`, drawn by bot.sparkline)."""
from __future__ import annotations

from bot.bus import Bus
from bot.sparkline import Point, trend

WINDOW_MS = 3_600_000
BUCKETS = 12  # 5-minute buckets over the hour


def record(pipe, bus: Bus, rule_id: str, now: int, value: float | None) -> None:
    """Queue on `pipe`: add this check's value, forget samples older than the window."""
    key = bus.keys.alert_samples(rule_id)
    if value is not None:
        pipe.zadd(key, {f"{now}:{value:g}": now})
    pipe.zremrangebyscore(key, "-inf", now - WINDOW_MS)


def points(bus: Bus, rule_id: str, now: int) -> list[Point]:
    """The rule's samples of the last hour, oldest first."""
    out: list[Point] = []
    for member in bus.r.zrangebyscore(bus.keys.alert_samples(rule_id), now - WINDOW_MS + 1, now):
        ms, _, value = str(member).partition(":")
        try:
            out.append((int(ms), float(value)))
        except ValueError:
            continue  # not one of ours: skip it, never fail the check
    return out


def trend_text(bus: Bus, rule, now: int) -> str:
    """The rule's last hour in one line (`DLQ size 220 -> 620 in 10m ▁▂▃▅▇`); empty
    before two values were sampled. `rule`: a bot.alerts.rules.Rule."""
    t = trend(points(bus, rule.id, now), now, WINDOW_MS, BUCKETS)
    return t.text(rule.title, rule.brief) if t else ""
