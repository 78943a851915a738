"""Jobs under odd conditions: cancel of an orphaned job, cancel racing completion, replay of
an event whose data is not an object. (A progress message that cannot be queued:
tests/test_notify.py.)"""
from __future__ import annotations

import json

from bot.envelope import parse_entry
from bot.jobs import lease, store
from bot.jobs.select import movable
from tests.jobs_helpers import new_job


def test_replay_skips_events_whose_data_cannot_carry_the_mark():
    ok = parse_entry("1-0", {"event": json.dumps({"id": "a", "type": "t", "data": {"x": 1}})})
    bare = parse_entry("1-1", {"event": json.dumps({"id": "b", "type": "t"})})
    text = parse_entry("1-2", {"event": json.dumps({"id": "c", "type": "t", "data": "payload"})})
    assert [movable("replay", e) for e in (ok, bare, text)] == [True, True, False]
    assert movable("reprocess", text)


def test_cancel_never_reopens_a_job_that_completed(bus):
    job = new_job(bus, "reprocess", bus.keys.dlq, bus.keys.events, {})
    store.finish(bus, store.get(bus, job.id), "COMPLETED")
    assert store.request_cancel(bus, job.id, lease.new_owner()).status == "COMPLETED"
    assert store.get(bus, job.id).status == "COMPLETED"


def test_cancel_of_a_job_no_runner_holds_finishes_it_here(bus):
    job = new_job(bus, "reprocess", bus.keys.dlq, bus.keys.events, {})
    done = store.request_cancel(bus, job.id, lease.new_owner())
    assert done.status == "CANCELLED" and not bus.r.sismember(bus.keys.jobs_runnable, job.id)
