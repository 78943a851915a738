"""Replies of busbot's Redis clients, typed as they arrive.

busbot's clients decode every reply (`decode_responses=True`, bot/connection.py), so each
string a command returns is a `str`. redis-py's annotations cannot follow that option: they
type a string reply `bytes | str`, and a stream entry's id and fields as possibly None.
These functions tell the type checker what a decoding client returns. They are casts: no
check and no conversion at run time, so a reply passes through exactly as redis-py gave it.
Raw, undecoded reads (bot/services/raw_read.py, `NEVER_DECODE`) do not use them.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import cast

from redis.typing import EncodableT

Fields = dict[str, str]
Entry = tuple[str, Fields]  # one stream entry: (id, fields)


def text(reply: object) -> str:
    """A string reply that is there: a value just checked, an id, a member."""
    return cast(str, reply)


def maybe_text(reply: object) -> str | None:
    """A string reply that may be missing, such as GET of a key that may not exist."""
    return cast("str | None", reply)


def texts(reply: object) -> list[str]:
    """A list of strings: the members of a sorted set or a set, ids."""
    return cast("list[str]", reply)


def fields(reply: object) -> Fields:
    """A hash (HGETALL) or the fields of one stream entry."""
    return cast(Fields, reply)


def entries(reply: object) -> list[Entry]:
    """Stream entries (XRANGE, XREVRANGE): never None, each with an id and its fields."""
    return cast("list[Entry]", reply)


def group_reads(reply: object) -> list[tuple[str, list[Entry]]]:
    """An XREADGROUP or XREAD reply in RESP2: one (stream, entries) pair per stream read."""
    return cast("list[tuple[str, list[Entry]]]", reply)


def hash_mapping(mapping: Mapping[str, str]) -> Mapping[EncodableT, EncodableT]:
    """String fields for HSET's `mapping`. redis-py's annotation wants a Mapping keyed by any
    encodable value, and Mapping's key type is invariant, so a `dict[str, str]` is refused
    though HSET takes it as it is."""
    return cast("Mapping[EncodableT, EncodableT]", mapping)
