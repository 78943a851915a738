"""Every Redis key and channel busbot touches, built in one place.

Stream and group names come from settings; everything busbot adds lives under
`<prefix>:bus:` (or `<prefix>:events:` where the platform's conventions pin the name).
The schema, with types, owners and retention: docs/architecture.md.
"""
from __future__ import annotations

from dataclasses import dataclass

from bot.settings import Settings


@dataclass(frozen=True)
class Keys:
    events: str
    dlq: str
    metadata: str
    audit: str
    group: str
    prefix: str

    @classmethod
    def from_settings(cls, s: Settings) -> Keys:
        return cls(events=s.bus_events_stream, dlq=s.bus_dlq_stream,
                   metadata=s.bus_metadata_stream, audit=s.bus_audit_stream,
                   group=s.bus_group, prefix=s.bus_prefix)

    @property
    def dlq_archive(self) -> str:
        return f"{self.dlq}:archive"

    def paused(self, group: str) -> str:
        """JSON {by, at, reason} while `group` is paused."""
        return f"{self.events}:paused:{group}"

    @property
    def control_channel(self) -> str:
        return f"{self.events}:control"

    def retry_schedule(self, group: str) -> str:
        """Sorted set entry id -> due ms: `group`'s failed entries waiting for their retry."""
        return f"{self.prefix}:bus:retry:{group}"

    def worker_counts(self, group: str) -> str:
        """Hash of counters the workers of `group` keep (unhandled events, by type)."""
        return f"{self.prefix}:bus:worker:{group}:counts"

    def dlq_top_cache(self, stream: str) -> str:
        return f"{self.prefix}:bus:cache:dlqtop:{stream}"

    def dlq_top_lock(self, stream: str) -> str:
        """Held by the one process counting a changed DLQ; the others wait for its cache."""
        return f"{self.prefix}:bus:cache:dlqtop:{stream}:lock"

    def job(self, job_id: str) -> str:
        return f"{self.prefix}:bus:job:{job_id}"

    @property
    def jobs_index(self) -> str:
        return f"{self.prefix}:bus:jobs"

    def alert(self, rule: str) -> str:
        return f"{self.prefix}:bus:alert:{rule}"

    # Alerts: per-rule state, its outbox of Slack deliveries, trend samples.
    @property
    def alert_rules(self) -> str:
        """Set of rule ids that have state (so `/bus alerts` lists vanished groups too)."""
        return f"{self.prefix}:bus:alerts"

    @property
    def alert_last_check(self) -> str:
        return f"{self.prefix}:bus:alerts:lastcheck"

    def alert_samples(self, rule: str) -> str:
        return f"{self.prefix}:bus:alert:{rule}:samples"

    def alert_messages(self, rule: str) -> str:
        """Hash episode -> Slack message ts of that episode's root message."""
        return f"{self.prefix}:bus:alert:{rule}:messages"

    def alert_outbox(self, rule: str) -> str:
        return f"{self.prefix}:bus:alert:{rule}:outbox"

    def alert_outbox_lock(self, rule: str) -> str:
        return f"{self.prefix}:bus:alert:{rule}:outbox:lock"

    @property
    def alert_outbox_index(self) -> str:
        """Set of rule ids whose outbox may hold deliveries."""
        return f"{self.prefix}:bus:alerts:outbox"

    @property
    def alert_outbox_hold(self) -> str:
        """Epoch ms before which nothing is delivered (Slack answered 429 with Retry-After)."""
        return f"{self.prefix}:bus:alerts:outbox:hold"

    # guarded actions: jobs, leases, approvals
    def job_lease(self, job_id: str) -> str:
        """Owner token of the process running the job; expires unless heartbeated."""
        return f"{self.prefix}:bus:job:{job_id}:lease"

    def job_event_ids(self, job_id: str) -> str:
        """Set of envelope ids a reprocess job moved (for the settle-time follow-up)."""
        return f"{self.prefix}:bus:job:{job_id}:eventids"

    def job_active(self, stream: str) -> str:
        """Id of the one active job reading `stream`."""
        return f"{self.prefix}:bus:jobs:active:{stream}"

    @property
    def jobs_runnable(self) -> str:
        """Set of job ids some runner must drive (RUNNING or CANCELLING)."""
        return f"{self.prefix}:bus:jobs:runnable"

    @property
    def jobs_followups(self) -> str:
        """Sorted set job id -> due ms of the settle-time follow-up."""
        return f"{self.prefix}:bus:jobs:followups"

    @property
    def history(self) -> str:
        """Capped stream of one sample per alert check (DLQ size, arrivals, lag per group)."""
        return f"{self.prefix}:bus:history"

    def approval(self, token: str) -> str:
        """A previewed guarded request: its selection, state and who did what."""
        return f"{self.prefix}:bus:approval:{token}"

    def button_value(self, token: str) -> str:
        """Command text too long for a button's value, kept here behind a short token."""
        return f"{self.prefix}:bus:button:{token}"
