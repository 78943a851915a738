"""`busbot serve` on a Sentinel-managed primary: commands (answered in its worker processes,
which reach Redis with the same settings) and probes, through a failover."""
from __future__ import annotations

import json
import signal

from tests.e2e.slack_stub import SECRET, command_body, http, signed_headers
from tests.e2e.test_serve_process import busbot, reap, stderr_of, wait_healthy, wait_ready
from tests.e2e.test_serve_startup import _wait
from tests.redis_server import MASTER, free_port


def test_serve_follows_the_primary_through_a_failover(sentinels, stub):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = busbot("serve", PORT=str(port), REDIS_URL=f"redis://{MASTER}/0", BUS_REDIS_SENTINELS=sentinels.addresses,
                  BUS_REDIS_SENTINEL_MASTER=MASTER, SLACK_SIGNING_SECRET=SECRET, SLACK_BOT_TOKEN="xoxb-e2e",
                  SLACK_API_URL=stub.api_url)
    try:
        wait_healthy(url, proc)
        wait_ready(url, proc)
        body = command_body("redis", stub.response_url("before"))
        assert http("POST", url + "/slack/events", body, signed_headers(body))[0] == 200
        assert "(sentinel)" in stub.wait_for("/response/before")[0]["text"]
        sentinels.kill_primary()
        _wait(lambda: http("GET", url + "/readyz")[0] == 503, "readiness lost with the primary", proc)
        status, text, _ = http("GET", url + "/readyz")
        assert "Redis" in json.loads(text)["error"]
        sentinels.wait_failover()
        wait_ready(url, proc, timeout=60)
        body = command_body("redis", stub.response_url("after"))
        assert http("POST", url + "/slack/events", body, signed_headers(body))[0] == 200
        _wait(lambda: stub.wait_for("/response/after"), "an answer from the promoted replica", proc)
        assert "(sentinel)" in stub.wait_for("/response/after")[0]["text"]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
    finally:
        reap(proc)
    assert "Traceback" not in stderr_of(proc)
