"""A job as stored in its Redis hash: what it moves, where, how far it got, who asked."""
from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, Field

Status = Literal["RUNNING", "COMPLETED", "CANCELLING", "CANCELLED", "FAILED"]
ACTIVE: frozenset[str] = frozenset({"RUNNING", "CANCELLING"})


class Job(BaseModel):
    id: str
    kind: str
    source: str
    target: str
    status: Status = "RUNNING"
    to_move: int = 0
    moved: int = 0
    skipped: int = 0
    cursor: str = ""  # last source id handled (exclusive start of the next batch)
    start: str = "-"  # first source id of the selection (inclusive)
    upper: str = "+"  # last source id of the selection, fixed at preview (inclusive)
    params: dict[str, Any] = Field(default_factory=dict)  # the selection filter
    by: str = ""
    approved_by: str = ""
    rate: int = 0  # events/s, 0 = unthrottled
    batch: int = 500
    created: int = 0
    started: int = 0
    finished: int = 0
    updated: int = 0
    note: str = ""  # e.g. "paused: Redis unreachable"
    error: str = ""
    msg_ts: str = ""  # the progress message's reference from the notifier (outbox: msg.<token>)
    request: str = ""  # the approval token it came from
    followup: str = ""  # what the settle-time follow-up found (reprocess)

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def done(self) -> int:
        return self.moved + self.skipped

    def params_text(self) -> str:
        """The selection as the user would type it: `type=a tenant=b`."""
        parts = []
        for k, v in self.params.items():
            if k in ("ids", "archive_job") or v in (None, "", []):
                continue
            parts.append(f"{k}={','.join(v) if isinstance(v, list) else v}")
        return " ".join(parts)

    def to_hash(self) -> dict[str, str]:
        out = {}
        for k, v in self.model_dump().items():
            out[k] = json.dumps(v) if k == "params" else str(v)
        return out

    @classmethod
    def from_hash(cls, h: dict[str, str]) -> Job:
        data: dict[str, Any] = dict(h)
        data["params"] = json.loads(h.get("params") or "{}")
        return cls.model_validate(data)
