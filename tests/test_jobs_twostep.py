"""Moves between two slots of a Redis Cluster (the platform's default names): the mover
is stopped between its two scripts at every step and another runner resumes the job;
nothing is lost, nothing is written twice."""
from __future__ import annotations

from collections import Counter

import pytest

from bot.bus import Bus
from bot.envelope import parse_entry
from bot.jobs import lease, runner, store, twostep
from bot.jobs.mover import LeaseLost, NotRunning, split
from bot.jobs.runner import run_job
from bot.jobs.select import item, selected
from bot.keys import job_slot_matches
from bot.settings import Settings
from tests.jobs_helpers import TYPES, copies, new_job, seed_dlq, seed_events

N = 60
BATCH = 7


class Crash(Exception):
    """The runner process dies here."""


@pytest.fixture(autouse=True)
def batches_of_batch(monkeypatch) -> None:
    """Batches stay at BATCH entries however fast Redis answers (a quiet machine would
    double them), so the n-th copy or commit falls where each test means it to."""
    monkeypatch.setattr(runner, "FAST_S", 0.0)


@pytest.fixture
def cbus(cluster_r) -> Bus:
    bus = Bus(cluster_r, Settings(_env_file=None))
    assert bus.cluster
    return bus


def _crash_at(monkeypatch, step: str, n: int) -> None:
    """Make the runner die right after the n-th call of `step` ("copy" or "commit")."""
    real = getattr(twostep, step)
    calls = [0]

    def dying(*args, **kwargs):
        out = real(*args, **kwargs)
        calls[0] += 1
        if calls[0] == n:
            raise Crash(f"after {step} #{n}")
        return out
    monkeypatch.setattr(twostep, step, dying)


def _resume(bus: Bus, job_id: str, dead_owner: str) -> None:
    """The dead runner's lease expires; another runner takes the job over."""
    bus.r.delete(bus.keys.job_lease(job_id))
    assert lease.holder(bus, job_id) is None
    owner = lease.new_owner()
    assert owner != dead_owner and lease.acquire(bus, job_id, owner)
    run_job(bus, job_id, owner)


def _reprocess(bus: Bus) -> tuple[str, set[str]]:
    seed_dlq(bus.r, bus.keys.dlq, N)
    want = {f"{1000 + i}-0" for i in range(N) if i % 3 != 2}
    job = new_job(bus, "reprocess", bus.keys.dlq, bus.keys.events, {"types": list(TYPES[:2])},
                  upper=f"{1000 + N - 1}-0", batch=BATCH, to_move=len(want))
    assert split(bus, job) and job_slot_matches(bus.keys, job.id, bus.keys.dlq)
    return job.id, want


def _selected(job, rows) -> list:
    return [item(job, parse_entry(i, f)) for i, f in rows if selected(job.kind, job.params, parse_entry(i, f))]


def _check_reprocess(bus: Bus, job_id: str, want: set[str]) -> None:
    moved = copies(bus.r, bus.keys.events, job_id, "reprocessedFrom", "reprocessJob")
    assert max(Counter(moved).values()) == 1, "an entry was written twice"
    assert set(moved) == want, "an entry was lost"
    left = {i for i, _ in bus.r.xrange(bus.keys.dlq)}
    assert left == {f"{1000 + i}-0" for i in range(N)} - want  # nothing left in both streams
    done = store.get(bus, job_id)
    assert done.status == "COMPLETED" and done.moved == len(want)
    ids = {f"evt_{int(x.split('-')[0]) - 1000}" for x in want}
    assert bus.r.smembers(bus.keys.job_event_ids(job_id)) == ids


@pytest.mark.parametrize("step", ["copy", "commit"])
@pytest.mark.parametrize("n", [1, 2, 4])
def test_reprocess_stopped_between_its_scripts_resumes_exactly_once(cbus, monkeypatch, step, n):
    job_id, want = _reprocess(cbus)
    first = lease.new_owner()
    assert lease.acquire(cbus, job_id, first)
    with monkeypatch.context() as m:
        _crash_at(m, step, n)
        with pytest.raises(Crash):
            run_job(cbus, job_id, first)
    _resume(cbus, job_id, first)
    _check_reprocess(cbus, job_id, want)


@pytest.mark.parametrize("step", ["copy", "commit"])
def test_replay_to_another_slot_stopped_between_its_scripts_resumes_exactly_once(cbus, monkeypatch, step):
    seed_events(cbus.r, cbus.keys.events, N)
    target = "hyvve:events:replay"
    job = new_job(cbus, "replay", cbus.keys.events, target, {}, start="1000000-0",
                  upper=f"{1_000_000 + N - 1}-0", batch=BATCH, to_move=N)
    assert split(cbus, job)
    first = lease.new_owner()
    assert lease.acquire(cbus, job.id, first)
    with monkeypatch.context() as m:
        _crash_at(m, step, 3)
        with pytest.raises(Crash):
            run_job(cbus, job.id, first)
    _resume(cbus, job.id, first)
    copied = copies(cbus.r, target, job.id, "replayOf", "replayJob")
    assert sorted(copied) == [f"{1_000_000 + i}-0" for i in range(N)]
    assert cbus.r.xlen(cbus.keys.events) == N and store.get(cbus, job.id).moved == N


def test_a_stale_runner_writes_nothing_twice(cbus):
    """Runner A copies a batch, stalls past its lease; B runs the whole job; A wakes up:
    its commit is refused, and a copy it retries is refused once the job has ended."""
    job_id, want = _reprocess(cbus)
    a = lease.new_owner()
    assert lease.acquire(cbus, job_id, a)
    job = store.get(cbus, job_id)
    rows = cbus.r.xrange(job.source, "-", job.upper, count=BATCH)
    items = _selected(job, rows)
    done, skipped = twostep.copy(cbus, job, items, dict(rows))
    _resume(cbus, job_id, a)  # A's lease expired; B finishes the job
    with pytest.raises(LeaseLost):
        twostep.commit(cbus, job, a, items[-1][0], done, skipped)
    with pytest.raises(NotRunning):  # the job ended: the copied-ids record is closed
        twostep.copy(cbus, job, items, dict(rows))
    _check_reprocess(cbus, job_id, want)


def test_cancel_settles_a_batch_copied_but_not_committed(cbus, monkeypatch):
    """The runner dies after a copy; the job is cancelled while no runner holds it: the
    copied entries are deleted from the DLQ (counted as moved), none stays in both."""
    job_id, _ = _reprocess(cbus)
    first = lease.new_owner()
    assert lease.acquire(cbus, job_id, first)
    with monkeypatch.context() as m:
        _crash_at(m, "copy", 2)
        with pytest.raises(Crash):
            run_job(cbus, job_id, first)
    cbus.r.delete(cbus.keys.job_lease(job_id))
    done = store.request_cancel(cbus, job_id, lease.new_owner())
    assert done.status == "CANCELLED"
    moved = copies(cbus.r, cbus.keys.events, job_id, "reprocessedFrom", "reprocessJob")
    left = {i for i, _ in cbus.r.xrange(cbus.keys.dlq)}
    assert len(moved) == len(set(moved)) == done.moved > 0
    assert not set(moved) & left
    assert cbus.r.sismember(cbus.keys.job_copied(job_id, cbus.keys.events), twostep.CLOSED)


def test_wait_replicas_holds_the_commit_until_the_targets_shard_has_the_copies(cluster_r):
    """BUS_WAIT_REPLICAS on a cluster: WAIT goes to the target's node after the copy; this
    cluster has no replicas, so the batch is not committed (the job pauses as for an outage)
    and the DLQ keeps every entry; without the setting the same job completes."""
    from bot.redis_errors import NotReplicated
    strict = Bus(cluster_r, Settings(_env_file=None, bus_wait_replicas=1, bus_wait_timeout=0.01))
    job_id, want = _reprocess(strict)
    owner = lease.new_owner()
    assert lease.acquire(strict, job_id, owner)
    job = store.get(strict, job_id)
    rows = cluster_r.xrange(job.source, "-", job.upper, count=BATCH)
    items = _selected(job, rows)
    with pytest.raises(NotReplicated):
        twostep.move(strict, job, owner, rows[-1][0], items, dict(rows))
    assert cluster_r.xlen(strict.keys.dlq) == N and store.get(strict, job_id).cursor == ""
    relaxed = Bus(cluster_r, Settings(_env_file=None))
    run_job(relaxed, job_id, owner)
    _check_reprocess(relaxed, job_id, want)


def test_job_ids_with_a_hash_tagged_prefix(cluster_r):
    """BUS_PREFIX={hyvve}: every job key is in the tag's slot; with streams of the same tag a
    job is created at once, with untagged streams it is refused in one sentence (never an
    endless search for an id)."""
    tagged = Bus(cluster_r, Settings(_env_file=None, bus_prefix="{hyvve}", bus_events_stream="{hyvve}:events",
                                     bus_dlq_stream="{hyvve}:dlq"))
    assert store.slotted_job_id(tagged, tagged.keys.dlq)
    mixed = Bus(cluster_r, Settings(_env_file=None, bus_prefix="{hyvve}"))
    with pytest.raises(store.JobPlacement, match="BUS_PREFIX"):
        store.slotted_job_id(mixed, mixed.keys.dlq)


@pytest.mark.parametrize("prefix", ["hyvve", "{hyvve}"])
def test_keys_placed_beside_another_stay_unique_and_in_its_slot(prefix):
    """A lease, a moved-ids set and an alert outbox sit in their owner's slot and are named
    after it, whether or not BUS_PREFIX carries a hash tag (with a tagged prefix every key
    has the same tag: a name taken from the tag alone would be shared by all jobs)."""
    from bot.keys import Keys, slot
    k = Keys.from_settings(Settings(_env_file=None, bus_prefix=prefix))
    built = {k.job_lease("j1"), k.job_lease("j2"), k.job_event_ids("j1"), k.job_event_ids("j2"),
             k.alert_outbox("dlq_size"), k.alert_outbox("lag:g")}
    assert len(built) == 6
    assert slot(k.job_lease("j1")) == slot(k.job("j1")) == slot(k.job_event_ids("j1"))
    assert slot(k.alert_outbox("lag:g")) == slot(k.alert("lag:g"))
