"""Filling the bus for alert tests: DLQ entries with old ids (so they are not "last hour")."""
from __future__ import annotations

import json
import time

OLD_MS = 1_000_000_000_000  # 2001: far outside any "last hour" window


def fill_dlq(r, stream: str, n: int, start_ms: int = OLD_MS) -> None:
    have = r.xlen(stream)
    if r.exists(stream):  # continue after the last id ever used (entries may have been deleted)
        start_ms = max(start_ms, int(r.xinfo_stream(stream)["last-generated-id"].split("-")[0]) + 1 - have)
    p = r.pipeline(transaction=False)
    for i in range(have, have + n):
        event = json.dumps({"id": f"e{i}", "type": "approval.item.created", "tenantId": "ws_1"})
        p.xadd(stream, {"event": event, "error": "boom", "movedAt": "2001-09-09T01:46:40Z"}, id=f"{start_ms + i}-0")
    p.execute()


def drain_dlq(r, stream: str, keep: int) -> None:
    ids = [i for i, _ in r.xrange(stream, "-", "+")]
    if len(ids) > keep:
        r.xdel(stream, *ids[: len(ids) - keep])


def checks_later(r, last_check_key: str, n: int = 3) -> None:
    """Wait until the bots have run `n` more alert checks (the shared last-check time moved n times)."""
    seen = {r.get(last_check_key)}
    deadline = time.monotonic() + 20
    while len(seen) <= n:
        assert time.monotonic() < deadline, "the bots stopped checking"
        seen.add(r.get(last_check_key))
        time.sleep(0.05)


def tick(runner) -> None:
    """One alert check, then one delivery round (what the scheduler of `busbot serve` runs)."""
    runner.check()
    runner.deliver()


class FakeTransport:
    """Records what would reach Slack; `failures` are raised, one per call, before answering."""

    def __init__(self):
        self.calls: list[dict] = []
        self.failures: list[Exception] = []
        self._ts = 0

    def _maybe_fail(self):
        if self.failures:
            raise self.failures.pop(0)

    def post(self, channel, message, thread_ts=None):
        self._maybe_fail()
        self._ts += 1
        ts = f"1764000000.{self._ts:06d}"
        self.calls.append({"op": "post", "channel": channel, "ts": ts, "thread_ts": thread_ts, "message": message})
        return ts

    def update(self, channel, ts, message):
        self._maybe_fail()
        self.calls.append({"op": "update", "channel": channel, "ts": ts, "thread_ts": None, "message": message})

    def ops(self) -> list[tuple]:
        return [(c["op"], c["ts"] if c["op"] == "update" else c["thread_ts"]) for c in self.calls]
