"""Which source entries a job moves, and what it writes for each one.

The same `matches` decides the preview's counts and the runner's batches, so what runs is
what was shown (together with the upper id fixed at preview).
"""
from __future__ import annotations

import json
import os
import threading
from typing import Any

import orjson

from bot.envelope import ParsedEntry, parse_entry
from bot.jobs.model import Job
from bot.jobs.mover import Item
from bot.mask import Masker
from bot.services.range_tally import OddRule
from bot.services.signature import signature


def movable(kind: str, e: ParsedEntry) -> bool:
    """Reprocess needs an `event` field to republish; replay needs a readable envelope whose
    `data` can carry the `__replay` mark (an object, or none)."""
    if kind == "reprocess":
        return "event" in e.fields
    if kind == "replay":
        return (e.event is not None and "event" in e.fields
                and isinstance(e.event.get("data", {}), (dict, type(None))))
    return True


def matches(params: dict[str, Any], e: ParsedEntry) -> bool:
    ids = params.get("ids")
    if ids and e.entry_id not in ids:
        return False
    if params.get("type") and e.type != params["type"]:
        return False
    if params.get("types") and e.type not in params["types"]:
        return False
    if params.get("tenant") and e.tenant != params["tenant"]:
        return False
    if params.get("error") and params["error"].lower() not in e.error.lower():
        return False
    if params.get("signature") and signature(e.error) != params["signature"]:
        return False
    return not (params.get("archive_job") and e.fields.get("archiveJob") != params["archive_job"])


def selected(kind: str, params: dict[str, Any], e: ParsedEntry) -> bool:
    return matches(params, e) and movable(kind, e)


def odd_rule(masker: Masker, kind: str, params: dict[str, Any]) -> OddRule:
    """The per-entry rules for a raw entry the fast count cannot read the usual way
    (bot.services.range_tally): (matches, movable, type, tenant), masked as the preview sees it."""
    def odd(entry_id: bytes, fields: dict[bytes, bytes]) -> tuple[bool, bool, str, str]:
        e = masker.entry(parse_entry(entry_id, fields))
        return matches(params, e), movable(kind, e), e.type, e.tenant
    return odd


_random = bytearray()
_random_lock = threading.Lock()
os.register_at_fork(after_in_child=_random.clear)  # a child never repeats its parent's ids


def new_event_id() -> str:
    """A random version-4 UUID in hex, as `uuid.uuid4().hex`, from system randomness drawn
    1,024 ids at a time: one system call per 1,024 copies instead of one per copy."""
    with _random_lock:
        if not _random:
            _random.extend(os.urandom(16 * 1024))
        b = _random[-16:]
        del _random[-16:]
    b[6] = (b[6] & 0x0F) | 0x40
    b[8] = (b[8] & 0x3F) | 0x80
    return b.hex()


def replay_copy(job_id: str, e: ParsedEntry) -> str:
    """A replay copy: a new envelope id, `data.__replay = true`, `correlationId = replay-<job>`."""
    return replay_event(job_id, e.event or {})


def replay_event(job_id: str, original: dict[str, Any]) -> str:
    """`replay_copy` of an event already parsed (orjson) into `original`."""
    event = dict(original)
    event["id"] = new_event_id()
    data = event.get("data")
    if isinstance(data, dict):
        event["data"] = {**data, "__replay": True}
    elif data is None:
        event["data"] = {"__replay": True}
    event["correlationId"] = f"replay-{job_id}"
    try:
        return orjson.dumps(event).decode()
    except (TypeError, orjson.JSONEncodeError):  # e.g. an integer beyond 64 bits
        return json.dumps(event, separators=(",", ":"), ensure_ascii=False)


def item(job: Job, e: ParsedEntry, as_read: bool = False) -> Item:
    """What the move writes for `e`. `as_read`: a reprocess passes the event as it was
    read, so the move need not read the entry again (it still checks that it exists)."""
    if job.kind == "replay":
        return (e.entry_id, replay_copy(job.id, e), "")
    if job.kind == "reprocess":
        return (e.entry_id, e.fields.get("event", "") if as_read else "", e.event_id or "")
    return (e.entry_id, "", "")
