"""The HTTP admin API's bodies and answers, as pydantic models: requests are validated
against them (unknown fields refused) and the OpenAPI document is generated from them.

Names are the runbook's: `eventId`, `eventType`, `startTime`, `endTime`, `eventTypes`,
`limit`, `batchSize`, `tenantId`, `group`; answers use `jobId`, `status`, `approvalId`.
"""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, StringConstraints

NAME = r"^[^\s,=\"']{1,200}$"  # an event type, tenant or group: no spaces, commas, quotes or '='
ID = r"^[^\s]{1,200}$"  # a stream id (1764000000000-0) or an event's envelope id
Name = Annotated[str, StringConstraints(pattern=NAME)]

Status = Literal["AWAITING_APPROVAL", "RUNNING", "COMPLETED", "CANCELLING", "CANCELLED", "FAILED"]


class Body(BaseModel):
    """A request body: unknown fields are an error that names them."""
    model_config = ConfigDict(extra="forbid", populate_by_name=False)


class ReprocessOne(Body):
    eventId: str = Field(pattern=ID, description="DLQ stream id (1764000000000-0) or the event's envelope id")


class ReprocessType(Body):
    eventType: str = Field(pattern=NAME, description="every DLQ entry of this event type")


class ReprocessAll(Body):
    """No fields: every entry in the DLQ now (entries arriving later are not included)."""


class Replay(Body):
    startTime: str | None = Field(default=None, description="ISO-8601 or an age (2h, 1d); default: the stream's start")
    endTime: str | None = Field(default=None, description="ISO-8601 or an age; default: now")
    eventTypes: list[Name] | None = Field(default=None, max_length=50, description="only these event types")
    limit: int | None = Field(default=None, ge=1, le=1_000_000,
                              description="at most this many events (the oldest first)")
    batchSize: int | None = Field(default=None, ge=1, le=2000, description="entries per move; smaller is gentler")
    tenantId: str | None = Field(default=None, pattern=NAME, description="only this tenant's events")


class Group(Body):
    group: str | None = Field(default=None, pattern=NAME, description="consumer group (default: BUS_GROUP)")


class Empty(Body):
    """No fields."""


class DlqQuery(Body):
    type: str | None = Field(default=None, description="event type")
    since: str | None = Field(default=None, description="ISO-8601 or an age (2h, 1d)")
    until: str | None = Field(default=None, description="ISO-8601 or an age")
    error: str | None = Field(default=None, description="text in the error message (any case)")
    tenant: str | None = Field(default=None, description="tenant id")
    cursor: str | None = Field(default=None, pattern=r"^\d+-\d+$", description="nextCursor of the previous page")
    limit: int = Field(50, ge=1, le=500, description="entries per page")


class TopQuery(Body):
    limit: int = Field(10, ge=1, le=100, description="rows per table")


class ListQuery(Body):
    limit: int = Field(50, ge=1, le=500, description="newest first, at most this many")


class Error(BaseModel):
    error: str = Field(description="one sentence: what went wrong")
    hint: str | None = Field(default=None, description="what to do instead")


class Accepted(BaseModel):
    """What a write did: a job started (or done), or an approval it waits for."""
    status: Status | Literal["NOTHING_TO_DO"]
    jobId: str | None = None
    approvalId: str | None = Field(default=None, description="the approval request, while one is needed")
    moved: int | None = None
    toMove: int | None = None
    message: str = ""
    statusUrl: str | None = None


class GroupAnswer(BaseModel):
    status: Status | Literal["NOTHING_TO_DO"]
    group: str
    paused: bool | None = None
    approvalId: str | None = None
    message: str = ""


class JobOut(BaseModel):
    jobId: str
    kind: str
    status: Status
    source: str
    target: str
    moved: int
    skipped: int
    toMove: int
    rate: float | None = Field(description="events/s achieved so far")
    rateLimit: int | None = Field(description="events/s allowed (null: unthrottled)")
    filter: dict[str, Any]
    by: str
    approvedBy: str | None
    started: str | None
    updated: str | None
    finished: str | None
    note: str | None
    error: str | None
    approvalId: str | None = None


class ReplayStatus(RootModel[JobOut | Accepted]):
    """A job, or (before a second operator decided) the approval request it waits for."""


class JobList(BaseModel):
    jobs: list[JobOut]


class ApprovalOut(BaseModel):
    approvalId: str
    kind: str
    title: str
    command: str
    state: str
    requester: str
    confirmedBy: str | None
    toMove: int
    created: str
    expires: str
    jobId: str | None


class ApprovalList(BaseModel):
    approvals: list[ApprovalOut]


class Decision(BaseModel):
    approvalId: str
    state: str
    message: str
    jobId: str | None = None
    job: JobOut | None = None


class DlqEntryOut(BaseModel):
    id: str
    type: str
    tenant: str
    eventId: str | None
    error: str
    attempts: str | None
    movedAt: str | None
    event: Any = Field(description="the event JSON (null when the entry has none)")
    problem: str | None = Field(default=None, description="why the entry is malformed, when it is")


class DlqDetail(DlqEntryOut):
    errorStack: str | None
    extraFields: dict[str, str]


class DlqPageOut(BaseModel):
    entries: list[DlqEntryOut]
    nextCursor: str | None
    scanned: int
    scanCapped: bool


class TopRow(BaseModel):
    key: str
    count: int
    newestId: str


class TopOut(BaseModel):
    total: int
    malformed: int
    byType: list[TopRow]
    bySignature: list[TopRow]
    byTenant: list[TopRow]


class AuditOut(BaseModel):
    id: str
    at: str | None
    who: str
    what: str
    args: str
    result: str
    job: str | None


class AuditList(BaseModel):
    entries: list[AuditOut]
