"""Prometheus metrics, read from Redis on every scrape (a custom collector, no counters
kept in process, so every bot process reports the same numbers).

Names follow the runbook's alert rule: `redis_stream_length{stream="hyvve:dlq"}`.
A group whose lag Redis reports as NULL (after XDEL/XTRIM/SETID) gets no lag sample,
never a 0, and `redis_stream_group_lag_unknown` says so. With several environments
(bot/environments.py) every sample carries an `env` label; with one, none does.
"""
from __future__ import annotations

import logging

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily

from bot.bus import Bus
from bot.redis_errors import UNREACHABLE

log = logging.getLogger(__name__)

GROUP_LABELS = ["stream", "group"]


class BusCollector:
    """One environment's samples; `env` (several environments) adds an `env` label to each."""

    def __init__(self, bus: Bus, env: str | None = None):
        self.bus, self.env = bus, env

    def streams(self) -> list[str]:
        k = self.bus.keys
        return [k.events, k.dlq, k.metadata]

    def describe(self):
        return []  # nothing to describe ahead of a scrape: every sample comes from Redis

    def collect(self):
        extra = [self.env] if self.env else []
        up = GaugeMetricFamily("busbot_redis_up", "1 when Redis answered this scrape, else 0",
                               labels=["env"] if self.env else None)
        try:
            facts = self._read()
        except UNREACHABLE as exc:
            log.warning("metrics: Redis unreachable at %s: %s", self.bus.where, exc)
            up.add_metric(extra, 0)
            yield up
            return
        up.add_metric(extra, 1)
        yield up
        yield from _families(facts, self.env)

    def _read(self) -> list[tuple[str, int, list[dict]]]:
        """(stream, length, groups) per stream; a missing stream has length 0, no groups."""
        p = self.bus.r.pipeline(transaction=False)
        for stream in self.streams():
            p.xlen(stream)
            p.xinfo_groups(stream)
        results = p.execute(raise_on_error=False)
        for err in results:
            if isinstance(err, UNREACHABLE):
                raise err
        pairs = zip(results[0::2], results[1::2])
        return [(stream, length if isinstance(length, int) else 0,
                 groups if isinstance(groups, list) else [])
                for stream, (length, groups) in zip(self.streams(), pairs)]


def _families(facts, env: str | None = None):
    extra = [env] if env else []
    group_labels = GROUP_LABELS + (["env"] if env else [])
    length = GaugeMetricFamily("redis_stream_length", "Entries in the stream (XLEN)",
                               labels=["stream"] + (["env"] if env else []))
    lag = GaugeMetricFamily("redis_stream_group_lag", "Entries not yet delivered to the group "
                            "(absent when Redis cannot tell)", labels=group_labels)
    unknown = GaugeMetricFamily("redis_stream_group_lag_unknown",
                                "1 when Redis reports the group's lag as NULL", labels=group_labels)
    pending = GaugeMetricFamily("redis_stream_group_pending",
                                "Entries delivered but not acknowledged", labels=group_labels)
    consumers = GaugeMetricFamily("redis_stream_group_consumers", "Consumers in the group",
                                  labels=group_labels)
    for stream, n, groups in facts:
        length.add_metric([stream, *extra], n)
        for g in groups:
            labels = [stream, g["name"], *extra]
            if g.get("lag") is not None:
                lag.add_metric(labels, g["lag"])
            unknown.add_metric(labels, 1 if g.get("lag") is None else 0)
            pending.add_metric(labels, g.get("pending", 0))
            consumers.add_metric(labels, g.get("consumers", 0))
    return [length, lag, unknown, pending, consumers]


def metrics_registry(bus: Bus, *others: Bus) -> CollectorRegistry:
    """One scrape of `bus`; with `others` (several environments) of each of them too, every
    sample labelled with its environment's name (`env`). With one environment the samples
    carry no `env` label, as before there were several."""
    registry = CollectorRegistry(auto_describe=False)
    if not others:
        registry.register(BusCollector(bus))
        return registry
    collectors = [BusCollector(b, b.settings.bus_environment_name) for b in (bus, *others)]
    registry.register(_Together(collectors))
    return registry


class _Together:
    """Several environments' collectors as one: each family once, with every environment's samples."""

    def __init__(self, collectors: list[BusCollector]):
        self.collectors = collectors

    def describe(self):
        return []

    def collect(self):
        merged: dict[str, GaugeMetricFamily] = {}
        for collector in self.collectors:
            for family in collector.collect():
                if family.name in merged:
                    merged[family.name].samples.extend(family.samples)
                else:
                    merged[family.name] = family
        yield from merged.values()


def exposition(registry: CollectorRegistry) -> bytes:
    """The Prometheus text format of one scrape."""
    return generate_latest(registry)
