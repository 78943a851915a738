"""Redis itself: reachability, memory against maxmemory, clients, persistence.

The runbook's "Redis Connection Issues" and "Events Lost After Restart" checks. Managed
Redis often disables CONFIG; then persistence is reported as unknown, not as off.

On a Redis Cluster every node is asked (role, memory, clients, persistence, slots) and the
cluster's own view is added: its state and how many of the 16384 slots are served. The
top-level figures add up the nodes (memory, clients); persistence is "off" only when it is
off on every node, and a node without it is named in a warning. With replicas and
BUS_WAIT_REPLICAS at 0, a warning says a failover can lose entries (bot/durability.py).
"""
from __future__ import annotations

import time

import redis
from pydantic import BaseModel

from bot import durability
from bot.bus import Bus
from bot.redis_errors import UNREACHABLE

SLOTS = 16384


class NodeInfo(BaseModel):
    address: str
    role: str  # primary | replica
    slots: int  # hash slots it serves (a replica: 0)
    used_memory: int
    used_memory_human: str
    maxmemory: int
    connected_clients: int | None
    save: str | None
    appendonly: str | None
    rdb_last_save_ok: bool | None
    error: str | None = None  # the node did not answer

    @property
    def memory_ratio(self) -> float | None:
        return self.used_memory / self.maxmemory if self.maxmemory else None

    @property
    def persistent(self) -> bool | None:
        if self.save is None or self.appendonly is None:
            return None
        return not (self.save == "" and self.appendonly == "no")


class ClusterState(BaseModel):
    state: str  # "ok" or "fail", as CLUSTER INFO says
    slots_assigned: int
    slots_ok: int
    slots_failing: int  # pfail + fail
    known_nodes: int
    primaries: int

    @property
    def covered(self) -> bool:
        return self.state == "ok" and self.slots_ok == SLOTS


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
    cluster: ClusterState | None = None  # None: a single Redis
    nodes: list[NodeInfo] = []

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
    out += _cluster_warnings(info)
    ratio = info.memory_ratio
    if ratio is not None and ratio > 0.8:
        out.append(f"Memory is {ratio:.0%} of maxmemory; trim streams or raise the limit.")
    if info.maxmemory and info.maxmemory_policy and info.maxmemory_policy != "noeviction":
        out.append(f"maxmemory-policy is `{info.maxmemory_policy}`: under memory pressure Redis may "
                   "evict whole streams. `noeviction` is safer for an event bus.")
    return out


def _cluster_warnings(info: RedisInfo) -> list[str]:
    if info.cluster is None:
        return []
    out, c = [], info.cluster
    if not c.covered:
        out.append(f"The cluster is `{c.state}` with {c.slots_ok:,} of {SLOTS:,} slots served: keys in the "
                   "other slots cannot be read or written. Check `redis-cli --cluster check` on a node.")
    down = [n.address for n in info.nodes if n.error]
    if down:
        out.append(f"{_list(down)} did not answer; figures leave {'it' if len(down) == 1 else 'them'} out.")
    bare = [n.address for n in info.nodes if not n.error and n.persistent is False]
    if bare and len(bare) < len([n for n in info.nodes if not n.error]):
        out.append(f"Persistence is off on {_list(bare)}: the streams whose slots those nodes serve are "
                   "lost if they restart. Enable `appendonly yes` or a `save` schedule there.")
    for n in info.nodes:
        ratio = n.memory_ratio
        if ratio is not None and ratio > 0.8:
            out.append(f"Memory on {n.address} is {ratio:.0%} of its maxmemory; trim streams or raise the limit.")
    return out


def _list(names: list[str]) -> str:
    quoted = [f"`{n}`" for n in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _node(bus: Bus, node, info: dict | None, slots: int) -> NodeInfo:
    r = bus.r
    if info is None:
        return NodeInfo(address=node.name, role=node.server_type or "?", slots=slots, used_memory=0,
                        used_memory_human="?", maxmemory=0, connected_clients=None, save=None,
                        appendonly=None, rdb_last_save_ok=None, error="no answer")

    def config(name: str) -> str | None:
        try:
            return r.config_get(name, target_nodes=node).get(name)  # type: ignore[call-arg]
        except (redis.ResponseError, redis.ConnectionError, redis.TimeoutError):  # as UNREACHABLE
            return None
    return NodeInfo(address=node.name, role="primary" if info.get("role") == "master" else "replica",
                    slots=slots, used_memory=int(info.get("used_memory", 0)),
                    used_memory_human=str(info.get("used_memory_human", "?")),
                    maxmemory=int(info.get("maxmemory", 0) or 0), connected_clients=info.get("connected_clients"),
                    save=config("save"), appendonly=config("appendonly"),
                    rdb_last_save_ok=_bgsave_ok(info))


def _bgsave_ok(info: dict) -> bool | None:
    return (info["rdb_last_bgsave_status"] == "ok") if "rdb_last_bgsave_status" in info else None


def _slots_by_node(bus: Bus) -> dict[str, int]:
    out: dict[str, int] = {}
    for address, node in bus.r.cluster_nodes().items():  # type: ignore[attr-defined]
        out[address] = sum(int(hi) - int(lo) + 1 for lo, hi in (rng if len(rng) == 2 else (rng[0], rng[0])
                                                                 for rng in node.get("slots", [])))
    return out


def _cluster_info(bus: Bus, rtt: float) -> RedisInfo:
    r = bus.r
    raw: dict[str, dict] = {}
    for node in r.get_nodes():  # type: ignore[attr-defined]
        try:
            raw[node.name] = r.info(target_nodes=node)  # type: ignore[call-arg]
        except UNREACHABLE:
            continue  # named in a warning; the other nodes still count
    slots = _slots_by_node(bus)
    nodes = [_node(bus, n, raw.get(n.name), slots.get(n.name, 0))
             for n in r.get_nodes()]  # type: ignore[attr-defined]
    nodes.sort(key=lambda n: (n.role != "primary", n.address))
    ci = r.cluster_info()  # type: ignore[attr-defined]
    state = ClusterState(state=str(ci.get("cluster_state", "?")),
                         slots_assigned=int(ci.get("cluster_slots_assigned", 0)),
                         slots_ok=int(ci.get("cluster_slots_ok", 0)),
                         slots_failing=int(ci.get("cluster_slots_pfail", 0)) + int(ci.get("cluster_slots_fail", 0)),
                         known_nodes=int(ci.get("cluster_known_nodes", 0)), primaries=int(ci.get("cluster_size", 0)))
    up = [n for n in nodes if not n.error]
    first = next(iter(raw.values()), {})
    persisted = [n.persistent for n in up]
    result = RedisInfo(
        info_available=bool(up), version=str(first.get("redis_version")) if first.get("redis_version") else None,
        rtt_ms=round(rtt, 2), used_memory=sum(n.used_memory for n in up),
        used_memory_human=_human(sum(n.used_memory for n in up)),
        maxmemory=sum(n.maxmemory for n in up) if all(n.maxmemory for n in up) else 0,
        maxmemory_policy=first.get("maxmemory_policy"),
        connected_clients=sum(n.connected_clients or 0 for n in up),
        blocked_clients=sum(int(raw[n.address].get("blocked_clients", 0)) for n in up),
        save=None if None in persisted else ("" if not any(persisted) else _first_save(up)),
        appendonly=None if None in persisted else ("no" if not any(persisted) else _first_aof(up)),
        rdb_last_save_ok=False if any(n.rdb_last_save_ok is False for n in up) else (True if up else None),
        warnings=[], cluster=state, nodes=nodes)
    replicas = max((int(raw[n.address].get("connected_slaves", 0)) for n in up if n.role == "primary"), default=0)
    unwaited = durability.cluster_unwaited(bus, replicas)
    result.warnings = _warnings(result) + ([unwaited] if unwaited else [])
    return result


def _first_save(nodes: list[NodeInfo]) -> str | None:
    return next((n.save for n in nodes if n.save), "")


def _first_aof(nodes: list[NodeInfo]) -> str | None:
    return next((n.appendonly for n in nodes if n.appendonly == "yes"), "no")


def _human(n: int) -> str:
    for unit, size in (("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)):
        if n >= size:
            return f"{n / size:.2f}{unit}"
    return f"{n}B"


def get_redis_info(bus: Bus) -> RedisInfo:
    if bus.cluster:
        t0 = time.perf_counter()
        bus.r.ping()
        return _cluster_info(bus, (time.perf_counter() - t0) * 1000)
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
