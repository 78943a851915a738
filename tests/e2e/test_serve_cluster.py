"""`busbot serve` as a process with REDIS_URL naming one node of a 3-primary Redis Cluster
(the platform's default names: the main stream, the DLQ and the metadata stream in three
slots on different nodes), driven by signed Slack requests: health, dlq top and a
reprocess approved by a second operator, moved exactly once."""
from __future__ import annotations

import json
import signal
import time
from collections import Counter

import pytest

from tests.e2e.slack_stub import SECRET, action_body, command_body, http, signed_headers
from tests.e2e.test_serve_process import busbot, stderr_of, wait_ready
from tests.jobs_helpers import seed_dlq

N = 300
API_TOKEN = "t0ken-for-the-cluster-e2e"


@pytest.fixture
def serving_cluster(redis_cluster, cluster_r, stub):
    from tests.redis_server import free_port
    port = free_port()
    proc = busbot("serve", PORT=str(port), REDIS_URL=redis_cluster.url, SLACK_SIGNING_SECRET=SECRET,
                  SLACK_BOT_TOKEN="xoxb-e2e", SLACK_API_URL=stub.api_url, BUS_OPERATORS="U0ALICE,U0BOB,api:ops",
                  BUS_API_TOKENS=f"ops:{API_TOKEN}")
    yield f"http://127.0.0.1:{port}", proc
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0, stderr_of(proc)[-2000:]


def _buttons(msg: dict) -> dict[str, str]:
    return {b["action_id"]: b.get("value", "") for blk in msg.get("blocks", []) if blk["type"] == "actions"
            for b in blk["elements"]}


def test_serve_on_a_cluster_health_dlq_top_and_an_approved_reprocess(serving_cluster, cluster_r, stub):
    url, proc = serving_cluster
    r = cluster_r
    assert len({r.keyslot(k) for k in ("hyvve:events", "hyvve:dlq", "hyvve:events:metadata")}) == 3
    r.xgroup_create("hyvve:events", "hyvve-platform", id="$", mkstream=True)
    seed_dlq(r, "hyvve:dlq", N)
    wait_ready(url, proc)

    def post(body: str, name: str) -> dict:
        assert http("POST", url + "/slack/events", body, signed_headers(body))[0] == 200
        return stub.wait_for(f"/response/{name}")[0]

    status, text, _ = http("GET", url + "/events/health")
    doc = json.loads(text)
    assert status == 200 and doc["dlqLength"] == N and doc["consumerGroups"] == 1
    health = post(command_body("health", stub.response_url("health")), "health")
    assert "does not exist" not in json.dumps(health)
    assert health["text"].startswith("Event bus is")
    top = post(command_body("dlq top", stub.response_url("top")), "top")
    assert top["blocks"][0]["text"]["text"] == f"DLQ top: {N} entries"
    metrics = http("GET", url + "/metrics")[1]
    assert f'redis_stream_length{{stream="hyvve:dlq"}} {N}' in metrics.replace(".0", "")

    preview = post(command_body("reprocess all", stub.response_url("preview"), "U0ALICE"), "preview")
    token = _buttons(preview)["guard_confirm"]
    request = post(action_body("guard_confirm", token, stub.response_url("confirm"), "U0ALICE"), "confirm")
    assert "Approval needed" in request["text"]
    approved = post(action_body("guard_approve", token, stub.response_url("approve"), "U0BOB"), "approve")
    job_id = approved["text"].split()[1]
    deadline = time.monotonic() + 60
    while r.xlen("hyvve:dlq") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert r.xlen("hyvve:dlq") == 0
    moved = [f["reprocessedFrom"] for _, f in r.xrange("hyvve:events") if f.get("reprocessJob") == job_id]
    assert len(moved) == N and max(Counter(moved).values()) == 1
    deadline = time.monotonic() + 20
    while r.hget(f"hyvve:bus:job:{job_id}", "status") != "COMPLETED" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert r.hget(f"hyvve:bus:job:{job_id}", "status") == "COMPLETED"
    auth = {"Authorization": f"Bearer {API_TOKEN}"}
    status, text, _ = http("GET", url + f"/events/jobs/{job_id}", headers=auth)
    assert status == 200 and json.loads(text)["status"] == "COMPLETED", text
    status, text, _ = http("GET", url + "/events/dlq/top", headers=auth)
    assert status == 200, text
