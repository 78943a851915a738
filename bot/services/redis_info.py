"""Redis itself: reachability, memory against maxmemory, clients, persistence.

The runbook's "Redis Connection Issues" and "Events Lost After Restart" checks. Managed
Redis often disables CONFIG; then persistence is reported as unknown, not as off.
"""
from __future__ import annotations

import time

import redis
from pydantic import BaseModel

from bot.bus import Bus


class RedisInfo(BaseModel):
    version: str | None
    rtt_ms: float
    info_available: bool  # False where INFO is disabled (or on the embedded demo Redis)
    used_memory: int
    used_memory_human: str
    maxmemory: int  # 0: no limit
    maxmemory_policy: str | None
    connected_clients: int | None
    blocked_clients: int | None
    save: str | None  # None: CONFIG unavailable
    appendonly: str | None
    rdb_last_save_ok: bool | None
    warnings: list[str]

    @property
    def memory_ratio(self) -> float | None:
        return self.used_memory / self.maxmemory if self.maxmemory else None


def _config(bus: Bus, name: str) -> str | None:
    try:
        return bus.r.config_get(name).get(name)
    except redis.ResponseError:  # CONFIG disabled or renamed on managed Redis
        return None


def _info(bus: Bus) -> dict:
    try:
        return bus.r.info()
    except redis.ResponseError:  # INFO disabled, or a Redis stand-in without it
        return {}


def _warnings(info: RedisInfo) -> list[str]:
    out = [] if info.info_available else ["INFO is not available on this Redis, so memory and "
                                          "client figures are unknown."]
    if info.save == "" and info.appendonly == "no":
        out.append("Persistence is off (no RDB snapshots, no AOF): every event on the bus is lost "
                   "if Redis restarts. Enable `appendonly yes` or a `save` schedule.")
    elif info.save is None or info.appendonly is None:
        out.append("CONFIG is not available, so busbot cannot tell whether persistence is on; "
                   "check it with your Redis provider.")
    if info.rdb_last_save_ok is False:
        out.append("The last RDB snapshot failed (rdb_last_bgsave_status is not ok).")
    ratio = info.memory_ratio
    if ratio is not None and ratio > 0.8:
        out.append(f"Memory is {ratio:.0%} of maxmemory; trim streams or raise the limit.")
    if info.maxmemory and info.maxmemory_policy and info.maxmemory_policy != "noeviction":
        out.append(f"maxmemory-policy is `{info.maxmemory_policy}`: under memory pressure Redis may "
                   "evict whole streams. `noeviction` is safer for an event bus.")
    return out


def get_redis_info(bus: Bus) -> RedisInfo:
    t0 = time.perf_counter()
    bus.r.ping()
    rtt = (time.perf_counter() - t0) * 1000
    info = _info(bus)
    result = RedisInfo(
        info_available=bool(info),
        version=str(info.get("redis_version")) if info.get("redis_version") else None,
        rtt_ms=round(rtt, 2),
        used_memory=int(info.get("used_memory", 0)),
        used_memory_human=str(info.get("used_memory_human", "?")),
        maxmemory=int(info.get("maxmemory", 0) or 0),
        maxmemory_policy=info.get("maxmemory_policy"),
        connected_clients=info.get("connected_clients"),
        blocked_clients=info.get("blocked_clients"),
        save=_config(bus, "save"), appendonly=_config(bus, "appendonly"),
        rdb_last_save_ok=(info["rdb_last_bgsave_status"] == "ok") if "rdb_last_bgsave_status" in info else None,
        warnings=[])
    result.warnings = _warnings(result)
    return result
