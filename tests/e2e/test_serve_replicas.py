"""Two `busbot serve` replicas on one Redis: when the one running a job gets SIGTERM, the
other takes the job over at once (the lease is released, not left to expire)."""
from __future__ import annotations

import signal

from bot.bus import Bus
from bot.jobs import lease, store
from tests.e2e.slack_stub import SECRET
from tests.e2e.test_serve_process import busbot, stderr_of, wait_healthy
from tests.e2e.test_serve_startup import _wait
from tests.jobs_helpers import new_job, seed_dlq
from tests.redis_server import free_port

LEASE_S = 600  # far beyond the test's waits: a take-over within them means the lease was released


def _pid(owner: str | None) -> int | None:
    return int(owner.split(":")[1]) if owner else None


def test_after_sigterm_the_other_replica_takes_the_job_over_at_once(redis_server, real_r, stub, settings):
    bus = Bus(real_r, settings.model_copy(update={"bus_job_lease": LEASE_S}))
    n = 3000  # at 20/s, minutes of work: still running when the first replica stops
    seed_dlq(real_r, bus.keys.dlq, n)
    job = new_job(bus, "reprocess", bus.keys.dlq, bus.keys.events, {}, upper=f"{1000 + n - 1}-0",
                  rate=20, batch=10, to_move=n)
    common = dict(REDIS_URL=redis_server.url, SLACK_SIGNING_SECRET=SECRET, SLACK_BOT_TOKEN="xoxb-e2e",
                  SLACK_API_URL=stub.api_url, BUS_JOB_LEASE=str(LEASE_S))
    first_port = free_port()
    first = busbot("serve", PORT=str(first_port), **common)
    second = None
    try:
        wait_healthy(f"http://127.0.0.1:{first_port}", first)
        _wait(lambda: _pid(lease.holder(bus, job.id)) == first.pid, "the first replica leasing the job", first)
        second_port = free_port()
        second = busbot("serve", PORT=str(second_port), **common)
        wait_healthy(f"http://127.0.0.1:{second_port}", second)
        assert _pid(lease.holder(bus, job.id)) == first.pid  # the lease keeps the second one out
        moved_before = store.get(bus, job.id).moved
        first.send_signal(signal.SIGTERM)
        assert first.wait(15) == 0, stderr_of(first)[-2000:]
        _wait(lambda: _pid(lease.holder(bus, job.id)) == second.pid, "the second replica taking the job over",
              second, timeout=60)
        _wait(lambda: store.get(bus, job.id).moved > moved_before + 20, "the job moving on", second, timeout=60)
        assert store.get(bus, job.id).status == "RUNNING"
        # end the job (the second replica finishes it between two chunks) before counting:
        # read while it moves, the copies and the DLQ's length would be of different moments
        store.request_cancel(bus, job.id, "e2e-test")
        _wait(lambda: store.get(bus, job.id).status == "CANCELLED", "the job ending", second, timeout=60)
        left = store.get(bus, job.id)
        assert left.skipped == 0
        # nothing moved twice across the hand-over, nothing lost
        copied = [f["reprocessedFrom"] for _, f in real_r.xrange(bus.keys.events) if f.get("reprocessJob") == job.id]
        assert len(copied) == len(set(copied)) == left.moved and real_r.xlen(bus.keys.dlq) == n - len(copied)
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(15)
                except Exception:  # noqa: BLE001 - a stuck process is killed
                    proc.kill()
                    proc.wait()
    for proc in (first, second):
        assert "Traceback" not in stderr_of(proc)
