"""Bus health at a glance: stream and DLQ length, consumer groups, status. No scans.

Costs a fixed number of round trips whatever the stream's length (XINFO, XLEN, one
XREVRANGE of the metadata stream and, for groups whose lag Redis cannot tell, a count of
the entries after their last-delivered-id, inside Redis and bounded).
"""
from __future__ import annotations

import json
import time

from pydantic import BaseModel

from bot.bus import Bus
from bot.services.thresholds import Level, level_of, worst
from bot.timeparse import id_ms

LAG_PROBE = 1000  # entries read at most to estimate a lag Redis reports as NULL


class Pause(BaseModel):
    by: str = "?"
    at: str | None = None
    reason: str | None = None


class GroupHealth(BaseModel):
    name: str
    consumers: int
    pending: int
    lag: int | None  # None: Redis does not know (after XDEL/XTRIM/SETID)
    lag_estimate: int | None = None  # entries after last-delivered-id, counted up to LAG_PROBE
    lag_estimate_capped: bool = False
    last_delivered_id: str
    last_delivered_age_ms: int | None
    paused: Pause | None = None
    level: Level = "healthy"

    @property
    def effective_lag(self) -> int | None:
        return self.lag if self.lag is not None else self.lag_estimate


class Health(BaseModel):
    stream: str
    stream_exists: bool
    stream_length: int
    last_entry_id: str | None
    dlq: str
    dlq_length: int
    groups: list[GroupHealth]
    last_processed_ms: int | None
    status: Level
    reasons: list[str]
    rtt_ms: float
    checked_ms: int


def _parse_pause(raw: str | None) -> Pause | None:
    if raw is None:
        return None
    try:
        data = json.loads(raw)
        return Pause(**{k: str(v) for k, v in data.items() if k in ("by", "at", "reason")})
    except (ValueError, TypeError, AttributeError):
        return Pause(reason=raw[:200])


def _count_after(bus: Bus, groups: list[GroupHealth], bound: int) -> list[int]:
    """Entries after each group's last-delivered-id, counted inside Redis up to bound + 1."""
    counter = bus.scripts.get("count_range")
    p = bus.r.pipeline(transaction=False)
    for g in groups:
        counter(keys=[bus.keys.events], args=[f"({g.last_delivered_id}", "+", bound + 1], client=p)
    return [int(n) for n, _ in p.execute()]


def _groups(bus: Bus, raw_groups, now: int, probe: int, deep_probe: int | None) -> list[GroupHealth]:
    groups = [GroupHealth(name=g["name"], consumers=g.get("consumers", 0),
                          pending=g.get("pending", 0), lag=g.get("lag"),
                          last_delivered_id=g.get("last-delivered-id", "0-0"),
                          last_delivered_age_ms=_age(g.get("last-delivered-id"), now))
              for g in raw_groups]
    if not groups:
        return groups
    p = bus.r.pipeline(transaction=False)
    for g in groups:
        p.get(bus.keys.paused(g.name))
    for g, raw in zip(groups, p.execute()):
        g.paused = _parse_pause(raw)
    deeper = [deep_probe] if deep_probe and deep_probe > probe else []
    for bound in [probe, *deeper]:  # a second, deeper count only where the first was capped
        unknown = [g for g in groups if g.lag is None and (g.lag_estimate is None or g.lag_estimate_capped)]
        if not unknown:
            break
        for g, n in zip(unknown, _count_after(bus, unknown, bound)):
            g.lag_estimate, g.lag_estimate_capped = min(n, bound), n > bound
    return groups


def _age(entry_id: str | None, now: int) -> int | None:
    ms = id_ms(entry_id)
    return None if not ms else now - ms


def get_health(bus: Bus, lag_probe: int = LAG_PROBE, deep_probe: int | None = None) -> Health:
    """`lag_probe`: entries counted at most per group whose lag Redis reports as NULL;
    `deep_probe`: a second count where the first was capped (the alerts pass the critical
    threshold + 1, so an unknown lag still decides between warning and critical)."""
    s, k = bus.settings, bus.keys
    t0 = time.perf_counter()
    bus.r.ping()
    rtt = (time.perf_counter() - t0) * 1000
    now = bus.clock()
    p = bus.r.pipeline(transaction=False)
    p.xinfo_stream(k.events)
    p.xlen(k.dlq)
    p.xinfo_groups(k.events)
    p.xrevrange(k.metadata, "+", "-", count=1)
    info, dlq_len, raw_groups, meta = p.execute(raise_on_error=False)
    exists = not isinstance(info, Exception)
    groups = _groups(bus, raw_groups if exists and not isinstance(raw_groups, Exception) else [], now, lag_probe, deep_probe)
    reasons: list[str] = []
    levels: list[Level] = []
    dlq_len = dlq_len if isinstance(dlq_len, int) else 0
    dl = level_of(dlq_len, s.bus_dlq_warn, s.bus_dlq_crit)
    if dl != "healthy":
        reasons.append(f"DLQ holds {dlq_len:,} entries ({dl} above "
                       f"{s.bus_dlq_crit if dl == 'critical' else s.bus_dlq_warn:,})")
    levels.append(dl)
    if not exists:
        reasons.append(f"main stream `{k.events}` does not exist yet")
        levels.append("warning")
    elif not groups:
        reasons.append(f"no consumer group reads `{k.events}`")
        levels.append("warning")
    for g in groups:
        lag = g.effective_lag
        g.level = level_of(lag, s.bus_lag_warn, s.bus_lag_crit)
        if g.lag is None and g.lag_estimate_capped:
            g.level = worst(g.level, "warning")
        if g.level != "healthy":
            shown = f"{lag:,}" + ("+" if g.lag_estimate_capped else "")
            reasons.append(f"group `{g.name}` lags by {shown} entries")
        if g.paused:
            reasons.append(f"group `{g.name}` is paused by {g.paused.by}")
            g.level = worst(g.level, "warning")
        levels.append(g.level)
    meta_ms = id_ms(meta[0][0]) if isinstance(meta, list) and meta else None
    return Health(stream=k.events, stream_exists=exists,
                  stream_length=info["length"] if exists else 0,
                  last_entry_id=info.get("last-generated-id") if exists else None,
                  dlq=k.dlq, dlq_length=dlq_len, groups=groups,
                  last_processed_ms=meta_ms, status=worst(*levels), reasons=reasons,
                  rtt_ms=round(rtt, 2), checked_ms=now)
