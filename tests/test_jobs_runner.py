"""The runner around the batches: stopping and cancelling a throttled job, the status
sentences of a paused or failed job, the read that leaves non-candidates in Redis, batch
sizes, and jobs run side by side by one runner."""
from __future__ import annotations

import json
import threading
import time

import pytest
import redis

from bot.actions.progress import ActionHooks
from bot.actions.runtime import ActionRunner
from bot.actions.selection import select
from bot.envelope import parse_entry
from bot.jobs import lease, mover, runner, scan, store, wake
from bot.jobs.model import Job
from bot.jobs.runner import Hooks, JobRunner, Pace, run_job
from bot.jobs.select import selected
from bot.notify import Message
from bot.redis_errors import NotReplicated, note_refusal
from tests.guard_helpers import gbus, grt  # noqa: F401  (fixtures)
from tests.jobs_helpers import copies, event, new_job, seed_dlq, seed_events
from tests.test_jobs_pace import FakeTime

CRM = "crm.contact.created"


class Notes(Hooks):
    def __init__(self) -> None:
        self.notes: list[str] = []

    def progress(self, bus, job, final=False):
        self.notes.append(job.note)


def until(what: str, check, timeout: float = 30.0) -> None:
    """Poll with a generous deadline (a busy machine is slow, never wrong)."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


# --- stop and cancel of a throttled job -----------------------------------------------------

def test_a_stopping_runner_moves_no_more_of_a_throttled_read(bus):
    """The rate's wait is the stop event's wait: once the runner stops, that wait returns at
    once, and the rest of the read must not go at full speed."""
    seed_dlq(bus.r, bus.keys.dlq, 200)
    job = new_job(bus, "reprocess", bus.keys.dlq, bus.keys.events, {}, rate=10, batch=1, to_move=200)
    assert lease.acquire(bus, job.id, "me")
    stop, t = threading.Event(), FakeTime()
    waits = []

    def wait(seconds: float) -> bool:
        waits.append(seconds)
        if len(waits) == 3:
            stop.set()  # SIGTERM while the job waits for its rate
        return t.wait(seconds) or stop.is_set()

    left = run_job(bus, job.id, "me", stop=stop, clock=t, wait=wait)
    assert left is not None and left.status == "RUNNING"
    moved = copies(bus.r, bus.keys.events, job.id, "reprocessedFrom", "reprocessJob")
    assert len(moved) <= 3 and store.get(bus, job.id).moved == len(moved)
    assert bus.r.xlen(bus.keys.dlq) == 200 - len(moved)


def test_a_cancelled_job_between_slots_copies_nothing_more(bus, monkeypatch):
    """Between two cluster slots a batch is a copy then a commit; a cancel between two chunks
    of a throttled read stops the copies (the commit accepts a cancelling job only to
    settle a copy already made)."""
    monkeypatch.setattr(mover, "split", lambda bus, job: True)
    monkeypatch.setattr(runner, "split", lambda bus, job: True)
    seed_dlq(bus.r, bus.keys.dlq, 100)
    job = new_job(bus, "reprocess", bus.keys.dlq, bus.keys.events, {}, rate=10, batch=1, to_move=100)
    assert lease.acquire(bus, job.id, "me")
    t = FakeTime()
    waits = []

    def wait(seconds: float) -> bool:
        waits.append(seconds)
        if len(waits) == 3:
            store.request_cancel(bus, job.id, "someone")  # the runner holds the lease: CANCELLING
        return t.wait(seconds)

    done = run_job(bus, job.id, "me", clock=t, wait=wait)
    assert done is not None and done.status == "CANCELLED"
    moved = copies(bus.r, bus.keys.events, job.id, "reprocessedFrom", "reprocessJob")
    assert len(moved) <= 3 and done.moved == len(moved)
    assert bus.r.xlen(bus.keys.dlq) == 100 - len(moved)  # nothing both here and there


# --- what a paused or failed job says ----------------------------------------------------------

def test_a_job_paused_for_replicas_says_so_not_unreachable(bus, monkeypatch):
    seed_dlq(bus.r, bus.keys.dlq, 5)
    job = new_job(bus, "reprocess", bus.keys.dlq, bus.keys.events, {}, to_move=5)
    assert lease.acquire(bus, job.id, "me")
    real = runner.run_batch
    calls = []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise NotReplicated("only 0 of 1 replicas acknowledged the batch")
        return real(*args, **kwargs)
    monkeypatch.setattr(runner, "run_batch", flaky)
    hooks, t = Notes(), FakeTime()
    done = run_job(bus, job.id, "me", hooks, clock=t, wait=t.wait)
    assert done is not None and done.status == "COMPLETED" and done.moved == 5
    paused = [n for n in hooks.notes if n.startswith("paused")]
    assert paused and "replicas did not confirm" in paused[0] and "unreachable" not in paused[0]
    assert "resumes by itself" in paused[0]


def test_a_job_refused_by_the_acl_fails_with_a_sentence_naming_what(bus, monkeypatch):
    seed_dlq(bus.r, bus.keys.dlq, 5)
    job = new_job(bus, "reprocess", bus.keys.dlq, bus.keys.events, {}, to_move=5)

    def refused(*args, **kwargs):
        exc = redis.exceptions.NoPermissionError(
            "this user has no permissions to access one of the keys used as arguments")
        note_refusal(exc, ("EVALSHA", "abc", 2, bus.keys.dlq, bus.keys.events))
        raise exc
    monkeypatch.setattr(runner, "run_batch", refused)
    with pytest.raises(redis.exceptions.NoPermissionError):
        JobRunner(bus).tick()
    failed = store.get(bus, job.id)
    assert failed.status == "FAILED"
    assert "ACL does not allow busbot's user" in failed.error and bus.keys.events in failed.error
    assert "internal error" not in failed.error and "NoPermissionError" not in failed.error


# --- the read that leaves non-candidates in Redis ----------------------------------------------

def _tricky(r, stream: str) -> None:
    """Entries a literal search could get wrong, between plain ones."""
    odd = [
        {"event": '{"id":"e1","type":"crm\\u002econtact.created","tenantId":"ws_1"}'},  # escaped type
        {"event": json.dumps({"id": "e2", "type": "auth.user.created", "tenantId": "ws_1",
                              "data": {"type": CRM}})},  # the type only nested
        {"event": '{"id": "e3",  "type" :  "crm.contact.created", "tenantId": "ws_1"}'},  # spaces
        {"event": '{"id":"e4","type":"crm.contact.created"'},  # JSON cut short
        {"type": CRM, "payload": "{}", "tenantId": "ws_1"},  # a flat entry
        {"event": json.dumps({"id": "e6", "tenantId": "ws_1"})},  # no type
        {"event": json.dumps({"id": "e7", "type": "crm.contact.créé", "tenantId": "ws_1"}, ensure_ascii=False)},
        {"error": "no event at all"},
    ]
    for i, fields in enumerate(odd):
        r.xadd(stream, fields, id=f"{2000 + i}-0")


@pytest.mark.parametrize("params", [{"type": CRM}, {"types": [CRM, "crm.contact.créé"]},
                                    {"type": CRM, "tenant": "ws_1"}, {"type": "<unknown>"},
                                    {"tenant": "<none>"}, {}])
def test_a_job_moves_exactly_what_the_preview_counted(bus, params):
    seed_dlq(bus.r, bus.keys.dlq, 40)
    _tricky(bus.r, bus.keys.dlq)
    sel = select(bus, "reprocess", bus.keys.dlq, params)
    expected = {i for i, f in bus.r.xrange(bus.keys.dlq) if selected("reprocess", params, parse_entry(i, f))}
    job = new_job(bus, "reprocess", bus.keys.dlq, bus.keys.events, params, upper=sel.upper, batch=3,
                  to_move=sel.matched)
    assert lease.acquire(bus, job.id, "me")
    done = run_job(bus, job.id, "me")
    assert done is not None and done.status == "COMPLETED"
    moved = copies(bus.r, bus.keys.events, job.id, "reprocessedFrom", "reprocessJob")
    assert set(moved) == expected and len(moved) == done.moved == sel.matched


def _stranger(r, stream: str) -> None:
    """Entries the raw pages must hand to the per-entry rules."""
    r.xadd(stream, {"event": '{"id":"e9","type":"crm.contact.created","tenantId":"ws_1","n":1e400}'}, id="3000-0")
    r.execute_command("XADD", stream, "3001-0", "event", '{"id":"x","type":"auth.user.created"}',
                      "event", json.dumps({"id": "e10", "type": CRM, "tenantId": "ws_1"}))
    r.xadd(stream, {"event": json.dumps({"id": "e11", "type": CRM, "tenantId": "ws_1", "data": [1]})}, id="3002-0")
    r.xadd(stream, {"event": json.dumps({"id": 12, "type": CRM, "tenantId": "ws_1"})}, id="3003-0")


@pytest.mark.parametrize("kind,from_field,job_field", [("reprocess", "reprocessedFrom", "reprocessJob"),
                                                       ("replay", "replayOf", "replayJob")])
@pytest.mark.parametrize("params", [{"type": CRM}, {"type": CRM, "tenant": "ws_1"}, {"tenant": "<none>"}, {}])
def test_a_filtered_reprocess_or_replay_reads_raw_pages_and_moves_what_the_preview_counted(
        bus, monkeypatch, kind, from_field, job_field, params):
    seed_dlq(bus.r, bus.keys.dlq, 40)
    _tricky(bus.r, bus.keys.dlq)
    _stranger(bus.r, bus.keys.dlq)
    sel = select(bus, kind, bus.keys.dlq, params)
    expected = {}
    for i, f in bus.r.xrange(bus.keys.dlq):
        e = parse_entry(i, f)
        if selected(kind, params, e):
            expected[i] = e
    raw_reads = []
    real = scan.read_raw
    monkeypatch.setattr(scan, "read_raw", lambda *a: raw_reads.append(a[2]) or real(*a))
    job = new_job(bus, kind, bus.keys.dlq, bus.keys.events, params, upper=sel.upper, batch=3, to_move=sel.matched)
    assert lease.acquire(bus, job.id, "me")
    done = run_job(bus, job.id, "me")
    assert done is not None and done.status == "COMPLETED" and raw_reads
    moved = copies(bus.r, bus.keys.events, job.id, from_field, job_field)
    assert sorted(moved) == sorted(expected) and len(moved) == done.moved == sel.matched
    if kind == "reprocess":  # the envelope ids the follow-up looks for, as the per-entry rules read them
        ids = {e.event_id for e in expected.values() if e.event_id}
        assert bus.r.smembers(bus.keys.job_event_ids(job.id)) == ids
        written = {f[from_field]: f["event"] for _, f in bus.r.xrange(bus.keys.events) if f.get(job_field) == job.id}
        assert written == {i: e.fields["event"] for i, e in expected.items()}


def test_a_masked_type_keeps_the_script_read(bus):
    job = Job(id="j1", kind="reprocess", source=bus.keys.dlq, target=bus.keys.events, params={"type": CRM}, by="t")
    assert scan.raw(bus, job)
    assert not scan.raw(bus, Job(id="j2", kind="purge", source=bus.keys.dlq, target="x", params={"type": CRM}, by="t"))
    assert not scan.raw(bus, Job(id="j3", kind="reprocess", source=bus.keys.dlq, target=bus.keys.events,
                                 params={"error": "timeout"}, by="t"))
    bus.settings = bus.settings.model_copy(update={"bus_mask_fields": "type"})
    assert bus.masker.names_keys and not scan.raw(bus, job)


def test_needles_skip_values_read_without_literal_text():
    assert scan.needles({"type": "<unknown>"}) == []
    assert scan.needles({"types": ["a", "<malformed>"]}) == []
    assert scan.needles({"tenant": "<none>", "type": "a"}) == [['"a"']]
    assert scan.needles({"types": ["a", "b"], "tenant": "ws"}) == [['"a"', '"b"'], ['"ws"']]


def test_a_reprocess_passes_the_event_read_and_skips_an_entry_gone_since(bus):
    """The move does not read the entry again, but it still must exist: one deleted after the
    read is skipped and written nowhere."""
    seed_dlq(bus.r, bus.keys.dlq, 2)
    job = new_job(bus, "reprocess", bus.keys.dlq, bus.keys.events, {})
    assert lease.acquire(bus, job.id, "me")
    rows = dict(bus.r.xrange(bus.keys.dlq))
    bus.r.xdel(bus.keys.dlq, "1000-0")
    items = [(i, rows[i]["event"], f"evt_{n}") for n, i in enumerate(["1000-0", "1001-0"])]
    res = mover.move_batch(bus, job, "me", "1001-0", items)
    assert (res.moved, res.skipped) == (1, 1)
    written = bus.r.xrange(bus.keys.events)
    assert [f["reprocessedFrom"] for _, f in written] == ["1001-0"]
    assert written[0][1]["event"] == rows["1001-0"]["event"] and list(written[0][1])[0] == "event"
    assert bus.r.xlen(bus.keys.dlq) == 0 and bus.r.smembers(bus.keys.job_event_ids(job.id)) == {"evt_1"}


def test_batch_sizes_grow_while_fast_and_halve_when_slow():
    p = Pace(100)
    for _ in range(20):
        p.observe(0.001)
        p.observe_read(0.001)
    assert (p.size, p.read) == (runner.MAX_SIZE, runner.MAX_READ)
    p.observe(runner.SLOW_S * 2)
    assert (p.size, p.read) == (runner.MAX_SIZE // 2, runner.MAX_READ)  # each by its own calls
    p.observe((runner.FAST_S + runner.SLOW_S) / 2)
    assert p.size == runner.MAX_SIZE // 2


def test_an_unthrottled_job_on_a_real_redis_reads_ahead_and_moves_all(real_r, settings):
    from bot.bus import Bus
    bus = Bus(real_r, settings)
    seed_dlq(real_r, bus.keys.dlq, 30_000)
    job = new_job(bus, "reprocess", bus.keys.dlq, bus.keys.events, {"type": CRM}, batch=100)
    assert lease.acquire(bus, job.id, "me")
    done = run_job(bus, job.id, "me")
    moved = copies(real_r, bus.keys.events, job.id, "reprocessedFrom", "reprocessJob")
    assert done is not None and done.moved == len(moved) == len(set(moved)) == 10_000
    assert real_r.xlen(bus.keys.dlq) == 20_000


# --- jobs side by side ------------------------------------------------------------------------

class Posts:
    def __init__(self) -> None:
        self.followups: list[str] = []

    def post(self, message: Message, thread_ts: str | None = None) -> str | None:
        if message.template == "job_followup":
            self.followups.append(message.context["job_id"])
        return None

    def update(self, ts: str, message: Message) -> None:
        pass


def test_a_throttled_replay_delays_neither_a_reprocess_nor_its_followup(real_r, settings):
    """One runner, one process: a replay at 1 event/s of 500 entries needs minutes (the
    control: it is still running at the end), while a reprocess on the DLQ started after it
    completes, and its settle-time follow-up is posted, within generous deadlines. Run one
    after another, the reprocess would wait for the replay."""
    from bot.bus import Bus
    bus = Bus(real_r, settings.model_copy(update={"bus_settle_seconds": 0}))
    seed_events(real_r, bus.keys.events, 500)
    seed_dlq(real_r, bus.keys.dlq, 300)
    posts = Posts()
    jobs = ActionRunner(bus, posts, hooks=ActionHooks(posts, on_final=_schedule), poll_s=3600)  # type: ignore[arg-type]
    jobs.start()
    try:
        slow = new_job(bus, "replay", bus.keys.events, bus.keys.events, {}, upper="1000499-0", start="1000000-0",
                       rate=1, batch=1, to_move=500)
        until("the replay under way", lambda: store.get(bus, slow.id).moved >= 1)
        fast = new_job(bus, "reprocess", bus.keys.dlq, bus.keys.events, {"type": CRM}, to_move=100)
        until("the reprocess completing", lambda: store.get(bus, fast.id).status == "COMPLETED")
        until("its follow-up posted", lambda: fast.id in posts.followups)
        assert store.get(bus, fast.id).moved == 100
        assert store.get(bus, slow.id).status == "RUNNING"  # the control: still far from done
    finally:
        jobs.stop()
        jobs.join(30)
    assert not jobs.is_alive() and lease.holder(bus, slow.id) is None  # stopped between chunks, lease released


def _schedule(bus, job) -> None:
    from bot.actions import followup
    followup.schedule(bus, job)


def test_a_job_created_in_the_process_wakes_the_runner(real_r, settings):
    """The runner polls once an hour here: only the wake-up can start the job in time."""
    from bot.bus import Bus
    bus = Bus(real_r, settings)
    seed_dlq(real_r, bus.keys.dlq, 30)
    jobs = JobRunner(bus, poll_s=3600)
    jobs.start()
    try:
        until("the runner waiting for its next poll", jobs.idle.is_set)
        job = new_job(bus, "reprocess", bus.keys.dlq, bus.keys.events, {}, to_move=30)
        until("the job completing", lambda: store.get(bus, job.id).status == "COMPLETED")
    finally:
        jobs.stop()
        jobs.join(30)


def test_a_runner_runs_at_most_its_parallel_jobs(real_r, settings):
    from bot.bus import Bus
    bus = Bus(real_r, settings)
    streams = [f"t:s{i}" for i in range(3)]
    for s in streams:
        for i in range(50):
            real_r.xadd(s, {"event": event(i, CRM)}, id=f"{1000 + i}-0")
    jobs = JobRunner(bus, poll_s=3600, parallel=2)
    made = [new_job(bus, "replay", s, s, {}, upper="1049-0", rate=1, batch=1, to_move=50) for s in streams]
    jobs.start()
    try:
        until("two jobs under way", lambda: sum(store.get(bus, j.id).moved > 0 for j in made) == 2)
        assert len(jobs.workers) == 2
        assert sum(lease.holder(bus, j.id) is not None for j in made) == 2
    finally:
        jobs.stop()
        jobs.join(30)


def test_a_replay_move_skips_an_entry_deleted_since_its_read(bus):
    """A replay keeps its source, and its move trusts the read only while nothing at or after
    the batch was deleted from the stream: one entry XDEL'd after the read is skipped."""
    seed_events(bus.r, bus.keys.events, 3)
    job = new_job(bus, "replay", bus.keys.events, "t:replayed", {}, upper="1000002-0")
    assert lease.acquire(bus, job.id, "me")
    items = [(i, json.dumps({"id": f"copy{i}"}), "") for i in ("1000000-0", "1000001-0", "1000002-0")]
    bus.r.xdel(bus.keys.events, "1000001-0")
    res = mover.move_batch(bus, job, "me", "1000002-0", items)
    assert (res.moved, res.skipped) == (2, 1)
    assert [f["replayOf"] for _, f in bus.r.xrange("t:replayed")] == ["1000000-0", "1000002-0"]


def test_a_replay_move_trusts_the_read_when_nothing_was_deleted_after_it(bus):
    """Entries deleted before the batch (a trimmed head) do not make the move look each entry
    up, and the batch moves whole."""
    seed_events(bus.r, bus.keys.events, 4)
    bus.r.xdel(bus.keys.events, "1000000-0")
    job = new_job(bus, "replay", bus.keys.events, "t:replayed", {}, upper="1000003-0")
    assert lease.acquire(bus, job.id, "me")
    items = [(i, json.dumps({"id": f"copy{i}"}), "") for i in ("1000001-0", "1000002-0", "1000003-0")]
    res = mover.move_batch(bus, job, "me", "1000003-0", items)
    assert (res.moved, res.skipped) == (3, 0) and bus.r.xlen("t:replayed") == 3


def test_a_single_entry_runs_in_the_click_without_waking_the_runners(gbus, grt):
    """A one-entry reprocess runs in the click that confirmed it, so its answer is the
    result: a runner woken by its creation could take it first. A bulk job wakes them."""
    from commands import router
    from tests.guard_helpers import click

    seed_dlq(gbus.r, gbus.keys.dlq, 30)
    woken = threading.Event()
    wake.register(woken)
    try:
        preview = router.run("reprocess 1000-0", grt, "U1")
        done = click(grt, preview, "guard_confirm", "U1")
        assert done.template == "job" and done.context["job"]["status"] == "COMPLETED"
        assert not woken.is_set()
        preview = router.run(f"dlq purge type={CRM}", grt, "U1")
        request = click(grt, preview, "guard_confirm", "U1")
        click(grt, request, "guard_approve", "U2")
        assert woken.is_set()
    finally:
        wake.unregister(woken)


def test_a_job_switches_between_raw_pages_and_the_script_and_moves_what_the_preview_counted(bus, monkeypatch):
    """Few selected (one in a hundred): the script; many (every one): raw pages again. The
    same entries move either way."""
    hot, p = "content.article.published", bus.r.pipeline(transaction=False)
    for i in range(1200):
        etype = hot if (i % 100 == 0 if i < 600 else True) else CRM
        p.xadd(bus.keys.events, {"event": event(i, etype)}, id=f"{1_000_000 + i}-0")
    p.execute()
    params = {"types": [hot]}
    sel = select(bus, "replay", bus.keys.events, params)
    ways: list[str] = []
    for way, name in (("raw", "read_raw"), ("script", "read")):
        real = getattr(scan, name)
        monkeypatch.setattr(scan, name, lambda *a, _real=real, _way=way: ways.append(_way) or _real(*a))
    job = new_job(bus, "replay", bus.keys.events, bus.keys.events, params, upper=sel.upper, batch=100,
                  to_move=sel.matched)
    assert lease.acquire(bus, job.id, "me")
    done = run_job(bus, job.id, "me")
    assert done is not None and done.status == "COMPLETED"
    assert ways[0] == "raw" and "script" in ways and ways[-1] == "raw"  # raw, then the script, then raw
    moved = copies(bus.r, bus.keys.events, job.id, "replayOf", "replayJob")
    assert len(moved) == done.moved == sel.matched == 606
