"""A previewed guarded request, stored in Redis under a single-use token.

It binds what was shown (kind, filter, id bounds, count) to the buttons: Confirm, Approve,
Reject and Cancel each move it one state on through `approval_step.lua`, so a double click
or a retried Slack request finds the state already moved and runs nothing twice.
States: PREVIEWED -> CONFIRMED | AWAITING -> APPROVED | REJECTED; PREVIEWED -> CANCELLED.
"""
from __future__ import annotations

import json
import secrets
from typing import Any

from pydantic import BaseModel, Field

from bot.bus import Bus
from bot.redis_types import fields as hash_fields
from bot.redis_types import hash_mapping

KEEP_S = 7 * 86_400  # the key outlives its expiry so a late click says "expired", not "unknown"


class GuardedRequest(BaseModel):
    token: str
    kind: str  # policy kind (bot.actions.policy.KINDS)
    command: str  # the command text, for "start again"
    params: dict[str, Any] = Field(default_factory=dict)  # the filter / arguments
    preview: dict[str, Any] = Field(default_factory=dict)  # what was shown
    source: str = ""
    target: str = ""
    start: str = "-"
    upper: str = "+"
    to_move: int = 0
    requester: str
    state: str = "PREVIEWED"
    created: int = 0
    expires: int = 0
    confirmed_by: str = ""
    approved_by: str = ""
    rejected_by: str = ""
    job_id: str = ""
    channel: str = ""  # where the approval request was posted; approvals count only there
    env: str = ""  # the environment it was made in (BUS_ENVIRONMENT_NAME); its buttons act only there

    def to_hash(self) -> dict[str, str]:
        return {k: json.dumps(v) if k in ("params", "preview") else str(v)
                for k, v in self.model_dump().items()}

    @classmethod
    def from_hash(cls, h: dict[str, str]) -> GuardedRequest:
        data: dict[str, Any] = dict(h)
        for k in ("params", "preview"):
            data[k] = json.loads(h.get(k) or "{}")
        return cls.model_validate(data)


class StepRefused(Exception):
    """The click lost: `reason` is missing, expired or the state the request is in now."""

    def __init__(self, reason: str, request: GuardedRequest | None):
        super().__init__(reason)
        self.reason, self.request = reason, request


def create(bus: Bus, req: GuardedRequest) -> GuardedRequest:
    now = bus.clock()
    req.token = req.token or secrets.token_urlsafe(12)
    req.env = req.env or bus.settings.bus_environment_name
    req.created, req.expires = now, now + bus.settings.bus_approval_ttl * 1000
    key = bus.keys.approval(req.token)
    p = bus.r.pipeline(transaction=True)
    p.hset(key, mapping=hash_mapping(req.to_hash()))
    p.expire(key, bus.settings.bus_approval_ttl + KEEP_S)
    p.execute()
    return req


def get(bus: Bus, token: str) -> GuardedRequest | None:
    h = hash_fields(bus.r.hgetall(bus.keys.approval(token))) if token else {}
    return GuardedRequest.from_hash(h) if h else None


def step(bus: Bus, token: str, expect: str, new: str, **fields: str) -> GuardedRequest:
    """Move the request from `expect` to `new` once; raises StepRefused for the loser, and
    with reason `environment` for a request made in another environment (two environments
    may share one Redis): it never moves there."""
    before = get(bus, token) if token else None
    if before is not None and before.env and before.env != bus.settings.bus_environment_name:
        raise StepRefused("environment", before)
    args: list[str] = [expect, new, str(bus.clock())]
    for k, v in fields.items():
        args += [k, str(v)]
    ok, state = bus.scripts.get("approval_step")(keys=[bus.keys.approval(token)], args=args)
    req = get(bus, token) if token else None
    if not ok:
        raise StepRefused(state, req)
    if req is None:  # moved, then deleted before it could be read back
        raise StepRefused("missing", None)
    return req


def set_job(bus: Bus, token: str, job_id: str) -> None:
    bus.r.hset(bus.keys.approval(token), "job_id", job_id)


def awaiting(bus: Bus, limit: int = 200) -> list[GuardedRequest]:
    """Requests waiting for a second operator's approval, newest first (expired ones left
    out). Requests are few and short-lived; they are found by their key pattern."""
    now, found = bus.clock(), []
    for key in bus.r.scan_iter(match=bus.keys.approval("*"), count=1000):
        h = hash_fields(bus.r.hgetall(key))
        if h.get("state") == "AWAITING" and int(h.get("expires") or 0) > now:
            found.append(GuardedRequest.from_hash(h))
        if len(found) >= limit:
            break
    return sorted(found, key=lambda q: -q.created)
