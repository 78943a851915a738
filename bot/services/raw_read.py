"""Whole-range reads of a stream as undecoded pages, for counts over hundreds of thousands
of entries.

redis-py turns every XRANGE entry into a dict of decoded strings; a count only needs two
fields of each, so these pages stay as the server sent them: `[id, [name, value, ...]]`
with bytes throughout. Each page is one `XRANGE ... COUNT batch` (a few milliseconds of
server time), and the next page is already on its way while the caller counts this one.
On a Redis Cluster the reads go to the node that holds the stream (one key, one slot).
"""
from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any

import redis

from bot.redis_errors import note_refusal

BATCH = 2000
RawEntry = tuple[bytes, list[bytes]]


def _identity(response: Any, **_: Any) -> Any:
    return response


def _client_for(r: redis.Redis, stream: str) -> redis.Redis:
    """A client on the same connections as `r` (the node holding `stream` on a cluster)
    whose XRANGE replies are left as sent."""
    if isinstance(r, redis.RedisCluster):
        pool = r.get_node_from_key(stream).redis_connection.connection_pool
    else:
        pool = r.connection_pool
    client = redis.Redis(connection_pool=pool)
    client.response_callbacks["XRANGE"] = _identity
    return client


def _xrange(client: redis.Redis, stream: str, start: bytes | str, end: bytes | str, count: int) -> list[RawEntry]:
    args = ("XRANGE", stream, start, end, "COUNT", count)
    try:
        return client.execute_command(*args, NEVER_DECODE=True) or []
    except redis.ResponseError as exc:
        note_refusal(exc, args)
        raise


def page(r: redis.Redis, stream: str, start: str, end: str, count: int) -> list[RawEntry]:
    """One raw page: at most `count` entries of `stream` from `start` to `end`."""
    return _xrange(_client_for(r, stream), stream, start, end, count)


def pages(r: redis.Redis, stream: str, start: str | None = None, end: str = "+",
          batch: int = BATCH) -> Iterator[list[RawEntry]]:
    """`stream` oldest first from `start` (inclusive, or "(" exclusive) to `end`, in pages
    of at most `batch` raw entries. One page is read ahead on a second connection of the
    same pool, so the server's work and the transfer overlap the caller's."""
    client = _client_for(r, stream)
    ahead: queue.Queue[list[RawEntry] | BaseException] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def read() -> None:
        cursor: bytes | str = start or "-"
        try:
            while not stop.is_set():
                rows = _xrange(client, stream, cursor, end, batch)
                ahead.put(rows)
                if len(rows) < batch:
                    return
                cursor = b"(" + rows[-1][0]
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread below
            ahead.put(exc)

    reader = threading.Thread(target=read, name="busbot-raw-read", daemon=True)
    reader.start()
    try:
        while True:
            rows = ahead.get()
            if isinstance(rows, BaseException):
                raise rows
            if rows:
                yield rows
            if len(rows) < batch:
                return
    finally:
        stop.set()
        try:  # let a reader blocked on a full queue see the stop
            ahead.get_nowait()
        except queue.Empty:
            pass
        reader.join()
