"""Every Redis key and channel busbot touches, built in one place.

Stream and group names come from settings; everything busbot adds lives under
`<prefix>:bus:` (or `<prefix>:events:` where the platform's conventions pin the name).
The schema, with types, owners and retention: docs/architecture.md.

Redis Cluster: a Lua script or MULTI may only touch keys of one hash slot. Keys that an
atomic step uses together are placed in one slot here: with a hash tag (`{...}`) naming the
key they must sit next to (`near()`), or, for a job, with an id chosen so that its hash
lands in the slot of the stream it reads (`job_slot_matches()`).
"""
from __future__ import annotations

from dataclasses import dataclass

from redis.crc import key_slot

from bot.settings import Settings


def hash_tag(name: str) -> str:
    """What Redis Cluster hashes for `name`: the text of its first non-empty `{...}`, or the
    whole name."""
    start = name.find("{")
    if start >= 0:
        end = name.find("}", start + 1)
        if end > start + 1:
            return name[start + 1:end]
    return name


def near(name: str) -> str:
    """A prefix (`{tag}`) that puts a key in the same hash slot as `name`."""
    return "{" + hash_tag(name) + "}"


def beside(name: str, suffix: str) -> str:
    """A key named after `name` (so unique to it) in `name`'s slot: `name:suffix` when
    `name` carries its own hash tag, else `{name}:suffix`."""
    return f"{name}:{suffix}" if hash_tag(name) != name else f"{{{name}}}:{suffix}"


def slot(name: str) -> int:
    """The Redis Cluster hash slot of a key (the same on every cluster)."""
    return key_slot(name.encode())


def same_slot(*names: str) -> bool:
    return len({slot(n) for n in names}) == 1


def job_slot_matches(keys: Keys, job_id: str, source: str) -> bool:
    """The job's hash (and so its lease and moved ids) is in `source`'s slot."""
    return slot(keys.job(job_id)) == slot(source)


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
        """Sorted set entry id -> due ms: `group`'s failed entries waiting for their retry.
        In the events stream's slot: the worker's claim script reads both."""
        return f"{near(self.events)}:bus:retry:{group}"

    def dead_lettered(self, group: str, entry_id: str) -> str:
        """The DLQ entry id written for `group`'s main-stream entry `entry_id`, when the DLQ
        and the main stream are in different cluster slots. In the DLQ's slot: the script
        appending to the DLQ checks and sets it, so a dead-lettering retried after a crash
        (or by another consumer) writes no second DLQ entry."""
        return f"{near(self.dlq)}:bus:deadlettered:{group}:{entry_id}"

    def worker_counts(self, group: str) -> str:
        """Hash of counters the workers of `group` keep (unhandled events, by type)."""
        return f"{self.prefix}:bus:worker:{group}:counts"

    def dlq_top_cache(self, stream: str) -> str:
        return f"{self.prefix}:bus:cache:dlqtop:{stream}"

    def dlq_top_lock(self, stream: str) -> str:
        """Held by the one process counting a changed DLQ; the others wait for its cache."""
        return f"{self.prefix}:bus:cache:dlqtop:{stream}:lock"

    def job(self, job_id: str) -> str:
        """The job's hash. Job ids are chosen so this key hashes to the slot of the job's
        source stream (`job_slot_matches`): the move script reads both."""
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
        """In the slot of the rule's state: a transition writes both in one script."""
        return beside(self.alert(rule), "outbox")

    def legacy_alert_outbox(self, rule: str) -> str:
        """The outbox's name before it moved next to the state; read once on upgrade."""
        return f"{self.alert(rule)}:outbox"

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

    @property
    def silences(self) -> str:
        """Hash silence id -> JSON (matchers, expiry, who, why) of the alert silences."""
        return f"{self.prefix}:bus:alerts:silences"

    # guarded actions: jobs, leases, approvals
    def job_lease(self, job_id: str) -> str:
        """Owner token of the process running the job; expires unless heartbeated. Next to
        the job's hash (and so its source stream)."""
        return beside(self.job(job_id), "lease")

    def job_event_ids(self, job_id: str) -> str:
        """Set of envelope ids a reprocess job moved (for the settle-time follow-up). Next
        to the job's hash."""
        return beside(self.job(job_id), "eventids")

    def job_copied(self, job_id: str, target: str) -> str:
        """Set of source entry ids a job has written to `target`, in the target's slot: the
        first step of a move between slots records each id here in the script that appends
        the entry, and skips ids already recorded, so no entry is written twice."""
        return f"{near(target)}:bus:job:{job_id}:copied"

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

    @property
    def slack_groups(self) -> str:
        """Slack user groups' last known members (group id -> JSON), for roles during an outage."""
        return f"{self.prefix}:bus:slackgroups"
