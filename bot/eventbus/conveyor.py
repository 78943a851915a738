"""Reading the next batch, then settling the last one while the next is handled.

On a connection of its own the worker sends `XREADGROUP` (never blocking) and waits for the
new batch; then it sends the previous batch's settle script and does not wait: it handles
the new batch while Redis runs the script, and reads the script's reply before it sends
anything else on that connection. So a batch costs one round trip, and Redis's work on the
acknowledgements and metadata can overlap the worker's work on the next batch. (Sent in
one write, the read's reply would wait for the script: Redis answers the commands of one
read from a socket together.)

A client without a connection pool of its own (a Redis Cluster client, which routes each
command to its node) takes the plain path: settle, then read, each waiting for its reply.

Nothing about delivery changes: an entry is acknowledged only after its handlers returned,
and a settle that never ran (the process died, the connection broke) leaves its entries
pending, to be claimed and run again (at least once).
"""
from __future__ import annotations

from typing import Any

import orjson
import redis
from redis.exceptions import NoScriptError

from bot.eventbus.settle import Delivery, Outcome, Settler


class Conveyor:
    def __init__(self, settler: Settler, count: int) -> None:
        bus = settler.bus
        self.settler = settler
        self._r = bus.r
        self._count = count
        self._pool: Any = getattr(bus.r, "connection_pool", None)  # None: the plain path
        self._settled_elsewhere = 0  # the plain path's answer for `collect`
        self._conn: Any = None
        self._read_cmd = ("XREADGROUP", "GROUP", settler.group, settler.consumer,
                          "COUNT", count, "STREAMS", bus.keys.events, ">")
        self._block_cmd = self._read_cmd[:6] + ("BLOCK",)
        self._settle_head = ("EVALSHA", bus.scripts.get("eventbus_settle").sha, 3,
                             *settler.settle_keys, settler.group, settler.consumer,
                             settler.maxlen)
        self._inflight: list[Outcome] | None = None  # sent, reply not read yet
        name = f"busbot-worker:{settler.group}:{settler.consumer}"
        self.name = "".join(ch if "!" <= ch <= "~" else "_" for ch in name)

    @property
    def busy(self) -> bool:
        return self._inflight is not None

    def read(self, block_ms: int = 0) -> list[Delivery]:
        """XREADGROUP alone, waiting up to `block_ms` for new entries (0: not at all)."""
        assert self._inflight is None, "collect the settle in flight first"
        if self._pool is None:
            return self._plain_read(block_ms)
        conn = self._connection()
        cmd = (self._block_cmd + (block_ms,) + self._read_cmd[6:] if block_ms
               else self._read_cmd)
        try:
            conn.send_packed_command(conn.pack_commands([cmd]))
            reply = conn.read_response()
        except redis.ResponseError:  # an answer (NOGROUP): the connection is in step
            raise
        except BaseException:
            self._drop()
            raise
        return deliveries(reply)

    def read_and_settle(self, outcomes: list[Outcome]) -> list[Delivery]:
        """Read the next batch, then send the settle of `outcomes`; return what the read
        got. The settle's reply is read by `collect`, which must come before the next call."""
        assert self._inflight is None, "collect the settle in flight first"
        if self._pool is None:
            self._settled_elsewhere = len(outcomes) - self.settler.ack(outcomes)
            self._inflight = outcomes
            return self._plain_read(0)
        conn = self._connection()
        error: redis.ResponseError | None = None
        try:
            conn.send_packed_command(conn.pack_commands([self._read_cmd]))
            try:
                reply = conn.read_response()
            except redis.ResponseError as exc:  # an answer (NOGROUP): still in step
                reply, error = None, exc
            if outcomes:
                conn.send_packed_command(conn.pack_commands(  # it just answered: no PING
                    [(*self._settle_head, orjson.dumps(outcomes))]), check_health=False)
                self._inflight = outcomes
        except BaseException:
            self._drop()
            raise
        if error is not None:
            self.collect()
            raise error
        return deliveries(reply)

    def collect(self) -> int:
        """Read the reply of the settle in flight; returns how many of its entries had been
        settled elsewhere meanwhile (claimed from us), 0 if no settle was in flight."""
        outcomes = self._inflight
        if outcomes is None:
            return 0
        if self._pool is None:
            self._inflight = None
            return self._settled_elsewhere
        try:
            acked = self._conn.read_response()
        except NoScriptError:  # not loaded yet, or flushed (restart, SCRIPT FLUSH): nothing
            self._inflight = None  # ran, so load it and settle the same outcomes
            return len(outcomes) - self.settler.ack(outcomes)
        except redis.ResponseError:
            self._inflight = None
            raise
        except BaseException:
            self._drop()
            raise
        self._inflight = None
        return len(outcomes) - int(acked)

    def close(self) -> None:
        """Give the connection back (read any reply in flight first)."""
        if self._conn is None:
            return
        try:
            self.collect()
        finally:
            if self._conn is not None:
                self._pool.release(self._conn)
                self._conn = None

    def _plain_read(self, block_ms: int) -> list[Delivery]:
        s = self.settler
        res: Any = self._r.xreadgroup(s.group, s.consumer, {s.bus.keys.events: ">"},
                                 count=self._count, block=block_ms or None)
        return [Delivery(eid, fields, 1) for _, entries in res or () for eid, fields in entries
                if fields is not None]

    def _connection(self) -> Any:
        if self._conn is None:
            conn = self._pool.get_connection()
            try:  # so that CLIENT LIST shows which connection is the worker's
                conn.send_command("CLIENT", "SETNAME", self.name)
                conn.read_response()
            except redis.ResponseError:
                pass  # CLIENT not allowed to this user (ACL): a name is only a courtesy
            except BaseException:
                conn.disconnect()
                self._pool.release(conn)
                raise
            self._conn = conn
        return self._conn

    def _drop(self) -> None:
        """After an error mid-exchange the connection's replies are out of step: close it.
        A settle whose outcome is unknown leaves its entries pending at worst."""
        self._inflight = None
        if self._conn is not None:
            self._conn.disconnect()
            self._pool.release(self._conn)
            self._conn = None


_new = tuple.__new__  # a NamedTuple without its Python-level __new__: once per entry


def deliveries(reply: Any) -> list[Delivery]:
    """An XREADGROUP reply (RESP2 list or RESP3 map; None when nothing was new) as
    deliveries; first delivery of each."""
    if not reply:
        return []
    streams = reply.values() if isinstance(reply, dict) else (s[1] for s in reply)
    out = []
    for entries in streams:
        for eid, flat in entries:
            if flat is None:  # deleted after it was added to the group's history
                continue
            fields = ({flat[0]: flat[1]} if len(flat) == 2
                      else dict(zip(flat[::2], flat[1::2])))
            out.append(_new(Delivery, (eid, fields, 1)))
    return out
