"""Recent values of each rule, kept in Redis for an hour, drawn as a small sparkline."""
from __future__ import annotations

from bot.bus import Bus

WINDOW_MS = 3_600_000
BUCKETS = 12  # 5-minute buckets over the hour
BARS = "▁▂▃▄▅▆▇█"


def record(pipe, bus: Bus, rule_id: str, now: int, value: float | None) -> None:
    """Queue on `pipe`: add this check's value, forget samples older than the window."""
    key = bus.keys.alert_samples(rule_id)
    if value is not None:
        pipe.zadd(key, {f"{now}:{value:g}": now})
    pipe.zremrangebyscore(key, "-inf", now - WINDOW_MS)


def series(bus: Bus, rule_id: str, now: int) -> list[float | None]:
    """Max value per bucket over the last hour, oldest first; None where nothing was sampled."""
    width = WINDOW_MS // BUCKETS
    out: list[float | None] = [None] * BUCKETS
    for member in bus.r.zrangebyscore(bus.keys.alert_samples(rule_id), now - WINDOW_MS + 1, now):
        ms, value = member.split(":", 1)
        i = min(BUCKETS - 1, (int(ms) - (now - WINDOW_MS + 1)) // width)
        out[i] = float(value) if out[i] is None else max(out[i], float(value))
    return out


def sparkline(values: list[float | None]) -> str:
    known = [v for v in values if v is not None]
    if not known:
        return ""
    lo, hi = min(known), max(known)
    span = (hi - lo) or 1
    return "".join(" " if v is None else BARS[min(len(BARS) - 1, int((v - lo) / span * len(BARS)))]
                   for v in values)
