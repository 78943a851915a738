"""The admin API served by the same HTTP server as Slack: a request made through the API
is approved by a Slack operator's signed click on Approve, and the job runs."""
from __future__ import annotations

import json
import time

import pytest

from bot.bus import Bus
from bot.settings import Settings
from tests.e2e.slack_stub import action_body, http
from tests.jobs_helpers import seed_dlq

TOKEN = "tok-ops-e2e-5Hq1"


@pytest.fixture
def settings() -> Settings:
    return Settings(_env_file=None, bus_api_tokens=f"ops:{TOKEN}", bus_operators="api:ops,U0BOB")


def test_an_api_request_approved_in_slack_runs(start_bot, stub, real_r, settings):
    bus = Bus(real_r, settings)
    seed_dlq(real_r, bus.keys.dlq, 9)
    bot = start_bot(bus, jobs=True)
    auth = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    status, text, _ = http("POST", bot.url + "/events/dlq/reprocess-type", '{"eventType": "crm.contact.created"}',
                           auth)
    doc = json.loads(text)
    assert status == 202 and doc["status"] == "AWAITING_APPROVAL"
    click = action_body("guard_approve", doc["approvalId"], stub.response_url("approve"), "U0BOB")
    assert bot.post_signed(click) == (200, "")
    answer = stub.wait_for("/response/approve")[0]
    assert "Job" in answer["text"]
    deadline = time.monotonic() + 20
    while True:
        status, text, _ = http("GET", bot.url + f"/events/replay/status/{doc['approvalId']}", None, auth)
        job = json.loads(text)
        if job.get("status") == "COMPLETED" or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert (status, job["status"], job["moved"], job["approvedBy"]) == (200, "COMPLETED", 3, "U0BOB")
    assert http("GET", bot.url + "/events/jobs", None, {"Authorization": "Bearer wrong"})[0] == 401
