"""The job engine: the atomic batch, runs to completion, cancel, leases, one job per source."""
from __future__ import annotations

import json

import pytest

from bot.jobs import lease, store
from bot.jobs.mover import LeaseLost, StaleBatch, move_batch
from bot.jobs.runner import run_job
from tests.jobs_helpers import copies, new_job, seed_dlq, seed_events

ON_CLUSTER = True  # also on a 3-primary Redis Cluster: default names (three slots) and hash-tagged


def _lease(bus, job, owner="me"):
    assert lease.acquire(bus, job.id, owner)
    return owner


def test_batch_moves_event_first_and_rerun_is_a_no_op(bus):
    seed_dlq(bus.r, bus.keys.dlq, 3)
    job = new_job(bus, "reprocess", bus.keys.dlq, bus.keys.events, {})
    owner = _lease(bus, job)
    items = [("1000-0", "", "evt_0"), ("1001-0", "", "evt_1")]
    res = move_batch(bus, job, owner, "1001-0", items)
    assert (res.moved, res.skipped) == (2, 0)
    rows = bus.r.xrange(bus.keys.events)
    assert [list(f)[:3] for _, f in rows] == [["event", "reprocessedFrom", "reprocessJob"]] * 2
    assert json.loads(rows[0][1]["event"])["id"] == "evt_0"
    assert rows[0][1]["reprocessJob"] == job.id
    with pytest.raises(StaleBatch):  # the same batch again (job.cursor still ""): nothing
        move_batch(bus, job, owner, "1001-0", items)
    assert bus.r.xlen(bus.keys.events) == 2
    assert [i for i, _ in bus.r.xrange(bus.keys.dlq)] == ["1002-0"]
    assert bus.r.smembers(bus.keys.job_event_ids(job.id)) == {"evt_0", "evt_1"}
    h = store.get(bus, job.id)
    assert (h.moved, h.cursor) == (2, "1001-0")


def test_batch_skips_entries_gone_from_the_source(bus):
    seed_dlq(bus.r, bus.keys.dlq, 2)
    bus.r.xdel(bus.keys.dlq, "1000-0")
    job = new_job(bus, "reprocess", bus.keys.dlq, bus.keys.events, {})
    res = move_batch(bus, job, _lease(bus, job), "1001-0", [("1000-0", "", ""), ("1001-0", "", "")])
    assert (res.moved, res.skipped) == (1, 1)


def test_batch_refused_without_the_lease(bus):
    seed_dlq(bus.r, bus.keys.dlq, 1)
    job = new_job(bus, "reprocess", bus.keys.dlq, bus.keys.events, {})
    _lease(bus, job, "other")
    with pytest.raises(LeaseLost):
        move_batch(bus, job, "me", "1000-0", [("1000-0", "", "")])
    assert bus.r.xlen(bus.keys.events) == 0


def test_reprocess_by_type_leaves_the_rest(bus):
    seed_dlq(bus.r, bus.keys.dlq, 1200)
    job = new_job(bus, "reprocess", bus.keys.dlq, bus.keys.events,
                  {"type": "crm.contact.created", "tenant": "ws_1"}, upper="2100-0", batch=50)
    done = run_job(bus, job.id, _lease(bus, job))
    want = {f"{1000 + i}-0" for i in range(1101) if i % 3 == 1 and i % 2 == 1}
    assert done.status == "COMPLETED" and done.moved == len(want)
    moved = copies(bus.r, bus.keys.events, job.id, "reprocessedFrom", "reprocessJob")
    assert sorted(moved) == sorted(want)
    assert bus.r.xlen(bus.keys.dlq) == 1200 - len(want)
    assert not bus.r.sismember(bus.keys.jobs_runnable, job.id)
    assert bus.r.get(bus.keys.job_active(bus.keys.dlq)) is None
    assert bus.r.ttl(bus.keys.job_event_ids(job.id)) > 0 and bus.r.ttl(bus.keys.job(job.id)) > 0


def test_replay_copies_with_a_new_envelope(bus):
    seed_events(bus.r, bus.keys.events, 100)
    job = new_job(bus, "replay", bus.keys.events, bus.keys.events,
                  {"types": ["agent.run.completed"]}, start="1000010-0", upper="1000039-0")
    done = run_job(bus, job.id, _lease(bus, job))
    assert done.moved == 10  # i in 10..39 with i % 3 == 2
    assert bus.r.xlen(bus.keys.events) == 110
    new = bus.r.xrange(bus.keys.events, "1000100", "+")
    for _, f in new:
        ev, src = json.loads(f["event"]), bus.r.xrange(bus.keys.events, f["replayOf"], f["replayOf"])
        orig = json.loads(src[0][1]["event"])
        assert list(f) == ["event", "replayOf", "replayJob"]
        assert ev["id"] != orig["id"] and ev["data"]["__replay"] is True
        assert ev["correlationId"] == f"replay-{job.id}" and ev["type"] == orig["type"]


def test_purge_archives_every_field_and_restore_puts_it_back(bus):
    seed_dlq(bus.r, bus.keys.dlq, 6)
    job = new_job(bus, "purge", bus.keys.dlq, bus.keys.dlq_archive, {"type": "crm.contact.created"})
    run_job(bus, job.id, _lease(bus, job))
    assert bus.r.xlen(bus.keys.dlq) == 4
    arch = bus.r.xrange(bus.keys.dlq_archive)
    assert list(arch[0][1]) == ["event", "error", "movedAt", "attempts", "archivedFrom", "archiveJob"]
    back = new_job(bus, "restore", bus.keys.dlq_archive, bus.keys.dlq, {"archive_job": job.id})
    run_job(bus, back.id, _lease(bus, back))
    assert bus.r.xlen(bus.keys.dlq) == 6 and bus.r.xlen(bus.keys.dlq_archive) == 0
    restored = bus.r.xrange(bus.keys.dlq, "1006", "+")
    assert list(restored[0][1]) == ["event", "error", "movedAt", "attempts", "restoredFrom", "restoreJob"]


def test_one_active_job_per_source(bus):
    job = new_job(bus, "purge", bus.keys.dlq, bus.keys.dlq_archive, {})
    with pytest.raises(store.JobConflict):
        new_job(bus, "reprocess", bus.keys.dlq, bus.keys.events, {})
    store.finish(bus, job, "COMPLETED")
    new_job(bus, "reprocess", bus.keys.dlq, bus.keys.events, {})


def test_cancel_without_a_runner_ends_the_job_and_keeps_what_moved(bus):
    seed_dlq(bus.r, bus.keys.dlq, 10)
    job = new_job(bus, "reprocess", bus.keys.dlq, bus.keys.events, {})
    owner = _lease(bus, job)
    move_batch(bus, job, owner, "1001-0", [("1000-0", "", ""), ("1001-0", "", "")])
    lease.release(bus, job.id, owner)
    cancelled = store.request_cancel(bus, job.id, "someone")
    assert cancelled.status == "CANCELLED" and cancelled.moved == 2
    assert bus.r.xlen(bus.keys.events) == 2
    assert store.request_cancel(bus, job.id, "someone").status == "CANCELLED"  # unchanged


def test_cancel_while_running_stops_at_the_next_batch(bus):
    seed_dlq(bus.r, bus.keys.dlq, 10)
    job = new_job(bus, "reprocess", bus.keys.dlq, bus.keys.events, {}, batch=2)
    _lease(bus, job, "runner")
    assert store.request_cancel(bus, job.id, "clicker").status == "CANCELLING"
    done = run_job(bus, job.id, "runner")
    assert done.status == "CANCELLED" and bus.r.xlen(bus.keys.events) == 0


def test_lease_is_exclusive_until_released(bus):
    assert lease.acquire(bus, "j1", "a")
    assert not lease.acquire(bus, "j1", "b")
    assert not lease.release(bus, "j1", "b")
    assert lease.release(bus, "j1", "a")
    assert lease.acquire(bus, "j1", "b")


def test_a_bug_in_a_job_ends_it_as_failed_instead_of_looping(bus, monkeypatch):
    from bot.jobs import runner

    def broken(*a, **k):
        raise ValueError("bug")
    seed_dlq(bus.r, bus.keys.dlq, 2)
    job = new_job(bus, "reprocess", bus.keys.dlq, bus.keys.events, {})
    monkeypatch.setattr(runner, "run_batch", broken)
    with pytest.raises(ValueError):
        runner.JobRunner(bus).tick()
    failed = store.get(bus, job.id)
    assert failed.status == "FAILED" and "ValueError" in failed.error
    assert not bus.r.sismember(bus.keys.jobs_runnable, job.id)


def test_a_runnable_id_without_its_job_is_dropped(bus):
    """The runnable set and a job's hash may be in different cluster slots (written apart);
    an id whose hash is gone is not polled for ever."""
    from bot.jobs.runner import JobRunner
    bus.r.sadd(bus.keys.jobs_runnable, "jgone")
    JobRunner(bus).tick()
    assert not bus.r.sismember(bus.keys.jobs_runnable, "jgone")
