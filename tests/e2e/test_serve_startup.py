"""`busbot serve` starting while Slack is unreachable, warning about BUS_* typos, and
stopping on SIGTERM with its job runner's leases released."""
from __future__ import annotations

import json
import signal
import time

from bot.bus import Bus
from bot.jobs import lease, store
from tests.e2e.slack_stub import SECRET, SlackStub, http
from tests.e2e.test_serve_process import busbot, reap, stderr_of, wait_healthy
from tests.jobs_helpers import new_job, seed_dlq
from tests.redis_server import free_port

RETRY_LINE = "Slack did not answer auth.test"


def _wait(predicate, what: str, proc, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"busbot serve exited: {stderr_of(proc)[-2000:]}"
        got = predicate()
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError(f"{what} did not happen within {timeout}s; stderr: {stderr_of(proc)[-2000:]}")


def test_serve_keeps_trying_slack_while_serving_probes_then_becomes_ready(redis_server):
    slack_port = free_port()  # nothing listens there yet: Slack is unreachable
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = busbot("serve", PORT=str(port), REDIS_URL=redis_server.url, SLACK_SIGNING_SECRET=SECRET,
                  SLACK_BOT_TOKEN="xoxb-e2e", SLACK_API_URL=f"http://127.0.0.1:{slack_port}/api/",
                  BUS_DLQ_WARNING="5")
    stub = None
    try:
        wait_healthy(url, proc)
        assert http("GET", url + "/healthz")[0] == 200
        assert "redis_stream_length" in http("GET", url + "/metrics")[1]
        status, text, _ = http("GET", url + "/readyz")
        assert status == 503 and "Slack" in json.loads(text)["error"]
        _wait(lambda: stderr_of(proc).count(RETRY_LINE) >= 2, "two tries of auth.test", proc)
        stub = SlackStub(port=slack_port).start()
        _wait(lambda: http("GET", url + "/readyz")[0] == 200, "readiness once Slack answers", proc)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
    finally:
        reap(proc)
        if stub:
            stub.stop()
    err = stderr_of(proc)
    assert "Traceback" not in err
    tries = [line for line in err.splitlines() if RETRY_LINE in line]
    assert len(tries) >= 2 and all("trying again in" in line for line in tries)
    assert "Failed to send a request" not in err  # one line per try: the client's own logs stay quiet
    assert "BUS_DLQ_WARNING is not a busbot setting and is ignored (did you mean BUS_DLQ_WARN?)" in err


def test_serve_stops_on_a_refused_token_in_one_line(redis_server):
    """Slack answering that the token is bad is final: exit 2, one sentence, no trace."""
    from tests.e2e import slack_stub

    stub = SlackStub().start()
    saved = dict(slack_stub.API_ANSWERS)
    try:
        slack_stub.API_ANSWERS["auth.test"] = {"ok": False, "error": "invalid_auth"}
        proc = busbot("serve", PORT=str(free_port()), REDIS_URL=redis_server.url, SLACK_SIGNING_SECRET=SECRET,
                      SLACK_BOT_TOKEN="xoxb-bad", SLACK_API_URL=stub.api_url)
        assert proc.wait(30) == 2
    finally:
        slack_stub.API_ANSWERS.clear()
        slack_stub.API_ANSWERS.update(saved)
        stub.stop()
    err = stderr_of(proc)
    assert "Traceback" not in err
    assert "busbot serve: Slack refused the bot token (invalid_auth); check SLACK_BOT_TOKEN." in err


def test_sigterm_stops_the_job_runner_which_releases_its_lease(redis_server, real_r, stub, settings):
    bus = Bus(real_r, settings)
    n = 3000  # at 20/s, minutes of work: still running at SIGTERM, whatever the machine's speed
    seed_dlq(real_r, bus.keys.dlq, n)
    job = new_job(bus, "reprocess", bus.keys.dlq, bus.keys.events, {}, upper=f"{1000 + n - 1}-0",
                  rate=20, batch=10, to_move=n)
    port = free_port()
    proc = busbot("serve", PORT=str(port), REDIS_URL=redis_server.url, SLACK_SIGNING_SECRET=SECRET,
                  SLACK_BOT_TOKEN="xoxb-e2e", SLACK_API_URL=stub.api_url)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc)
        _wait(lambda: lease.holder(bus, job.id), "the serving process leasing the job", proc)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0, stderr_of(proc)[-2000:]
    finally:
        reap(proc)
    assert lease.holder(bus, job.id) is None  # released, not left to expire
    left = store.get(bus, job.id)
    assert left is not None and left.status == "RUNNING" and left.moved < n  # resumable elsewhere
