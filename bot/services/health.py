"""Bus health at a glance: stream and DLQ length, consumer groups, failed events/hr,
processing p99, stale groups, and the status they add up to (bot.services.status).

Bounded work whatever the stream's length: XINFO, XLEN, one XREVRANGE of the metadata
stream, per group its pause key, XPENDING summary and first undelivered entry, for groups
whose lag Redis cannot tell a count of the entries after their last-delivered-id (inside
Redis, bounded), and the last hour of failures (bot.services.processing).
"""
from __future__ import annotations

import json
import time

import redis
from pydantic import BaseModel

from bot.bus import Bus
from bot.plural import plural
from bot.redis_types import maybe_text
from bot.services.processing import metadata_metrics
from bot.services.status import Check, Metric, judge, overall
from bot.services.thresholds import Level
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
    oldest_pending_id: str | None = None
    oldest_pending_age_ms: int | None = None
    waiting_age_ms: int | None = None  # the oldest entry not yet delivered to the group
    level: Level = "healthy"  # the worst of its lag, staleness and pause

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
    checks: list[Check]
    rtt_ms: float
    checked_ms: int

    def check(self, rule: str) -> Check | None:
        return next((c for c in self.checks if c.rule == rule), None)

    @property
    def metrics(self) -> list[Metric]:
        return [Metric(c.rule, c.value, c.note) for c in self.checks]


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
    if bus.cluster:  # a cluster client cannot pipeline scripts: one call per group
        return [int(counter(keys=[bus.keys.events], args=[f"({g.last_delivered_id}", "+", bound + 1])[0])
                for g in groups]
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
        p.xpending(bus.keys.events, g.name)
        p.xrange(bus.keys.events, f"({g.last_delivered_id}", "+", count=1)
    replies = iter(p.execute(raise_on_error=False))
    for g in groups:
        raw, pending, following = next(replies), next(replies), next(replies)
        g.paused = _parse_pause(raw if isinstance(raw, str) else None)
        if isinstance(pending, dict) and pending.get("pending"):
            g.oldest_pending_id = maybe_text(pending.get("min"))
            g.oldest_pending_age_ms = _age(g.oldest_pending_id, now)
        if isinstance(following, list) and following:
            g.waiting_age_ms = _age(maybe_text(following[0][0]), now)
    deeper = [deep_probe] if deep_probe and deep_probe > probe else []
    for bound in [probe, *deeper]:  # a second, deeper count only where the first was capped
        unknown = [g for g in groups if g.lag is None and (g.lag_estimate is None or g.lag_estimate_capped)]
        if not unknown:
            break
        for g, n in zip(unknown, _count_after(bus, unknown, bound)):
            g.lag_estimate, g.lag_estimate_capped = min(n, bound), n > bound
    return groups


_REDIRECTED = (redis.exceptions.AskError, redis.exceptions.TryAgainError, redis.exceptions.ClusterError)


def _unanswered(reply: object) -> bool:
    """A pipeline reply that is no answer about the key: the connection failed, or a
    cluster sent the command elsewhere (MOVED, ASK, TRYAGAIN, CLUSTERDOWN). An error
    Redis gave about the key itself (no such key, wrong type) is an answer."""
    if not isinstance(reply, Exception):
        return False
    return not isinstance(reply, redis.ResponseError) or isinstance(reply, _REDIRECTED)


def _age(entry_id: str | None, now: int) -> int | None:
    ms = id_ms(entry_id)
    return None if not ms else now - ms


def lag_metric(g: GroupHealth) -> Metric:
    """The group's lag; where Redis reports NULL, the entries after last-delivered-id as
    counted (a capped count holds its bound, so the lag is at least bound + 1)."""
    rule = f"lag:{g.name}"
    if g.lag is not None:
        return Metric(rule, float(g.lag))
    if g.lag_estimate is None:
        return Metric(rule, None, "Redis reports the lag as unknown")
    if g.lag_estimate_capped:
        return Metric(rule, float(g.lag_estimate + 1),
                      f"more than {g.lag_estimate:,} entries after last-delivered-id (Redis lag unknown)")
    return Metric(rule, float(g.lag_estimate), "counted after last-delivered-id (Redis lag unknown)")


def idle_metric(g: GroupHealth) -> Metric:
    """How long the group has left work undone: the age of its oldest pending entry or of
    the oldest entry it has not been delivered yet, whichever is older (0: nothing waits)."""
    pending, waiting = g.oldest_pending_age_ms or 0, g.waiting_age_ms or 0
    if not pending and not waiting:
        return Metric(f"idle:{g.name}", 0.0)
    if pending >= waiting:
        return Metric(f"idle:{g.name}", max(0, pending) / 1000,
                      f"oldest pending entry {g.oldest_pending_id}, {g.pending:,} pending")
    return Metric(f"idle:{g.name}", max(0, waiting) / 1000,
                  f"undelivered entries wait since {g.last_delivered_id} was delivered")


def group_metrics(groups: list[GroupHealth]) -> list[Metric]:
    out = []
    for g in groups:
        out += [lag_metric(g), idle_metric(g), Metric(f"paused:{g.name}", 1.0 if g.paused else 0.0,
                                                      f"by {g.paused.by}" if g.paused else "")]
    return out


def get_health(bus: Bus, lag_probe: int = LAG_PROBE, deep_probe: int | None = None) -> Health:
    """`lag_probe`: entries counted at most per group whose lag Redis reports as NULL;
    `deep_probe` (default: the critical lag threshold + 1): a second count where the first
    was capped, so an unknown lag still decides between warning and critical."""
    s, k = bus.settings, bus.keys
    deep_probe = deep_probe if deep_probe is not None else max(lag_probe, s.bus_lag_crit + 1)
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
    for reply in (info, dlq_len, raw_groups, meta):
        if _unanswered(reply):
            raise reply  # Redis could not answer (a node down, a slot moved): never "does not exist"
    exists = not isinstance(info, Exception)
    readable = exists and not isinstance(raw_groups, Exception)
    groups = _groups(bus, raw_groups if readable else [], now, lag_probe, deep_probe)
    dlq_len = dlq_len if isinstance(dlq_len, int) else 0
    metrics = [Metric("dlq_size", float(dlq_len)),
               Metric("stream", 0.0 if exists else 1.0, "" if exists else f"{k.events} does not exist")]
    if exists:
        metrics.append(Metric("groups", 0.0 if groups else 1.0,
                              plural(len(groups), "group") if groups else f"no consumer group reads {k.events}"))
    metrics += group_metrics(groups)
    metrics += metadata_metrics(bus, now)
    checks = judge(s, metrics)
    levels = {c.rule: c.level for c in checks}
    for g in groups:
        g.level = overall([levels.get(f"{kind}:{g.name}", "unknown") for kind in ("lag", "idle", "paused")])
    meta_ms = id_ms(meta[0][0]) if isinstance(meta, list) and meta else None
    return Health(stream=k.events, stream_exists=exists,
                  stream_length=info["length"] if exists else 0,
                  last_entry_id=info.get("last-generated-id") if exists else None,
                  dlq=k.dlq, dlq_length=dlq_len, groups=groups,
                  last_processed_ms=meta_ms, status=overall([c.level for c in checks]),
                  reasons=[c.reason for c in checks if c.level in ("warning", "critical")],
                  checks=checks, rtt_ms=round(rtt, 2), checked_ms=now)
