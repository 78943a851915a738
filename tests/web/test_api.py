"""The HTTP admin API on the serving Flask app over a real Redis: every `curl` line of the
runbook with its body, tokens, roles, approvals (through the API and through Slack's
button handler), bad bodies, Redis down, and the generated OpenAPI document."""
from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from bot.actions import audit
from bot.bus import Bus
from bot.connection import connect
from bot.runtime import Runtime, build_runtime
from bot.settings import Settings
from bot.timeparse import parse_iso_ms
from bot.web.app import create_app
from commands import router
from tests.jobs_helpers import event, seed_dlq
from tests.redis_server import free_port
from tests.runtime_helpers import RecordingNotifier

TOKENS = {"ops": "tok-ops-7Qx2", "ops2": "tok-ops2-9Lm4", "viewer": "tok-view-3Kp8"}
OPS, OPS2, VIEWER = (f"Bearer {TOKENS[n]}" for n in ("ops", "ops2", "viewer"))
JSON = {"Content-Type": "application/json"}


def api_settings(**overrides) -> Settings:
    base = {"bus_api_tokens": ",".join(f"{k}:{v}" for k, v in TOKENS.items()),
            "bus_operators": "api:ops,api:ops2,U0BOB"}
    return Settings(_env_file=None, **{**base, **overrides})


class Api:
    def __init__(self, rt: Runtime):
        self.rt, self.bus = rt, rt.bus
        self.client = create_app(rt.bus, None, probe=rt.bus, rt=rt).test_client()

    def curl(self, method: str, path: str, body: str | None = None, auth: str | None = OPS):
        """As the runbook's curl lines send it: a JSON string body, or no body at all."""
        headers = {"Authorization": auth} if auth else {}
        if body is not None:
            headers.update(JSON)
        resp = self.client.open(path, method=method, data=body, headers=headers)
        return resp.status_code, resp.get_json()

    def wait_job(self, job_id: str, status: str = "COMPLETED", timeout: float = 20) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            code, doc = self.curl("GET", f"/events/replay/status/{job_id}")
            if doc.get("status") == status or time.monotonic() > deadline:
                assert (code, doc["status"]) == (200, status), doc
                return doc
            time.sleep(0.05)


@pytest.fixture
def api(real_r, request) -> Iterator[Api]:
    overrides = getattr(request, "param", {}) or {}
    bus = Bus(real_r, api_settings(**overrides), where="test redis")
    rt = build_runtime(bus, RecordingNotifier(), poll_s=0.05)
    yield Api(rt)
    rt.stop()
    if rt.jobs is not None:
        rt.jobs.join(10)


def seed_runbook_bus(r, bus: Bus) -> None:
    """A DLQ holding the runbook's example id, and a main stream with December 1st's events."""
    seed_dlq(r, bus.keys.dlq, 30)
    r.xadd(bus.keys.dlq, {"event": event(999, "approval.item.created"), "error": "boom", "attempts": "3"},
           id="1234567890-0")
    day = parse_iso_ms("2025-12-01T00:00:00Z")
    for i in range(24):
        etype = ("approval.item.created", "workspace.member.invited", "crm.contact.created")[i % 3]
        r.xadd(bus.keys.events, {"event": event(5000 + i, etype)}, id=f"{day + i * 3_600_000}-0")
    r.xgroup_create(bus.keys.events, bus.keys.group, "$")


# -- the runbook's curl lines -------------------------------------------------------------

def test_reprocess_one_event_by_the_runbook_id(api):
    seed_runbook_bus(api.bus.r, api.bus)
    code, doc = api.curl("POST", "/events/dlq/reprocess", '{"eventId": "1234567890-0"}')
    assert code == 200 and doc["status"] == "COMPLETED" and (doc["moved"], doc["toMove"]) == (1, 1)
    assert api.bus.r.xrange(api.bus.keys.dlq, "1234567890-0", "1234567890-0") == []
    [(_, fields)] = api.bus.r.xrevrange(api.bus.keys.events, count=1)
    assert list(fields)[0] == "event" and fields["reprocessedFrom"] == "1234567890-0"
    assert fields["reprocessJob"] == doc["jobId"]
    whats = [a.what for a in audit.latest(api.bus, 20)]
    assert "reprocess_one.request" in whats and "reprocess_one.confirm" in whats


def test_reprocess_by_type_waits_for_a_second_operator_then_runs(api):
    seed_runbook_bus(api.bus.r, api.bus)
    code, doc = api.curl("POST", "/events/dlq/reprocess-type", '{"eventType": "approval.item.created"}')
    assert code == 202 and doc["status"] == "AWAITING_APPROVAL" and doc["jobId"] is None
    approval = doc["approvalId"]
    [(posted, _)] = api.rt.notifier.posts  # the usual Approve / Reject message, to the actions channel
    assert posted.template == "guard_approval"
    assert {b["action_id"]: b["value"] for b in posted.context["buttons"]} == {
        "guard_approve": approval, "guard_reject": approval}
    assert api.curl("GET", f"/events/replay/status/{approval}")[1]["status"] == "AWAITING_APPROVAL"
    [listed] = api.curl("GET", "/events/approvals")[1]["approvals"]
    assert (listed["approvalId"], listed["requester"], listed["toMove"]) == (approval, "api:ops", 11)

    code, doc = api.curl("POST", f"/events/approvals/{approval}/approve", auth=OPS)
    assert code == 403 and "another operator" in doc["error"]  # never your own request
    code, doc = api.curl("POST", f"/events/approvals/{approval}/approve", auth=OPS2)
    assert code == 200 and doc["state"] == "APPROVED" and doc["jobId"]
    done = api.wait_job(approval)  # the approval's status follows its job
    assert (done["jobId"], done["moved"], done["toMove"]) == (doc["jobId"], 11, 11)
    assert done["approvedBy"] == "api:ops2" and done["by"] == "api:ops"
    code, again = api.curl("POST", f"/events/approvals/{approval}/approve", auth=OPS2)
    assert code == 409  # single use: nothing runs twice


def test_replay_by_time_range(api):
    seed_runbook_bus(api.bus.r, api.bus)
    body = """{
    "startTime": "2025-12-01T00:00:00Z",
    "endTime": "2025-12-01T23:59:59Z",
    "eventTypes": ["approval.item.created"]
  }"""
    code, doc = api.curl("POST", "/events/replay", body)
    assert code == 202 and doc["status"] == "AWAITING_APPROVAL" and doc["toMove"] == 8
    code, decided = api.curl("POST", f"/events/approvals/{doc['approvalId']}/approve", auth=OPS2)
    assert code == 200
    done = api.wait_job(decided["jobId"])
    assert done["kind"] == "replay" and done["moved"] == 8
    copies = [f for _, f in api.bus.r.xrange(api.bus.keys.events) if "replayOf" in f]
    assert len(copies) == 8 and all(json.loads(f["event"])["data"]["__replay"] for f in copies)


def test_replay_by_event_type_with_the_runbook_body(api):
    seed_runbook_bus(api.bus.r, api.bus)
    code, doc = api.curl("POST", "/events/replay", """{
    "eventTypes": ["workspace.member.invited"],
    "limit": 1000
  }""")
    assert code == 202 and doc["status"] == "AWAITING_APPROVAL" and doc["toMove"] == 8
    approved = api.curl("POST", f"/events/approvals/{doc['approvalId']}/approve", auth=OPS2)[1]
    done = api.wait_job(approved["jobId"])
    assert done["kind"] == "replay" and done["moved"] == 8 and done["filter"]["types"] == ["workspace.member.invited"]


def test_replay_by_event_type_with_a_limit_and_a_batch_size(api):
    seed_runbook_bus(api.bus.r, api.bus)
    code, doc = api.curl("POST", "/events/replay", """{
    "eventTypes": ["workspace.member.invited"],
    "limit": 1000, "batchSize": 3
  }""")
    assert code == 202 and doc["toMove"] == 8
    approved = api.curl("POST", f"/events/approvals/{doc['approvalId']}/approve", auth=OPS2)[1]
    done = api.wait_job(approved["jobId"])
    assert done["moved"] == 8 and done["filter"]["batch"] == 3


def test_replay_status_of_an_unknown_job_is_404(api):
    code, doc = api.curl("GET", "/events/replay/status/jnope")
    assert code == 404 and doc["error"] == "There is no job or approval request jnope."


def test_pause_and_resume_the_default_group_with_no_body(api):
    seed_runbook_bus(api.bus.r, api.bus)
    code, doc = api.curl("POST", "/events/consumers/pause")
    assert code == 200 and (doc["status"], doc["group"], doc["paused"]) == ("COMPLETED", "hyvve-platform", True)
    assert api.bus.r.exists(api.bus.keys.paused("hyvve-platform"))
    code, doc = api.curl("POST", "/events/consumers/pause", '{"group": "hyvve-platform"}')
    assert code == 200 and doc["status"] == "NOTHING_TO_DO"  # already paused: nothing changes
    code, doc = api.curl("POST", "/events/consumers/resume")
    assert code == 200 and doc["paused"] is False
    assert not api.bus.r.exists(api.bus.keys.paused("hyvve-platform"))


def test_pause_of_an_unknown_group_is_404(api):
    seed_runbook_bus(api.bus.r, api.bus)
    code, doc = api.curl("POST", "/events/consumers/pause", '{"group": "nobody-reads"}')
    assert code == 404 and "nobody-reads" in doc["error"]


@pytest.mark.parametrize("api", [{"bus_approval_required": ""}], indirect=True)
def test_reprocess_all_without_approval_starts_a_job_at_once(api):
    seed_runbook_bus(api.bus.r, api.bus)
    code, doc = api.curl("POST", "/events/dlq/reprocess-all")
    assert code in (200, 202) and doc["status"] in ("RUNNING", "COMPLETED") and doc["approvalId"] is None
    assert doc["toMove"] == 31
    api.wait_job(doc["jobId"])
    assert api.bus.r.xlen(api.bus.keys.dlq) == 0


def test_reprocess_all_of_an_empty_dlq_has_nothing_to_do(api):
    code, doc = api.curl("POST", "/events/dlq/reprocess-all")
    assert code == 200 and doc["status"] == "NOTHING_TO_DO" and doc["toMove"] == 0


def test_a_second_job_on_the_same_stream_is_409(real_r):
    api = Api(build_runtime(Bus(real_r, api_settings()), RecordingNotifier(), start_jobs=False))
    seed_runbook_bus(api.bus.r, api.bus)  # no runner: the first job holds the DLQ
    approval = api.curl("POST", "/events/dlq/reprocess-all")[1]["approvalId"]
    job_id = api.curl("POST", f"/events/approvals/{approval}/approve", auth=OPS2)[1]["jobId"]
    for path, body in (("/events/dlq/reprocess-type", '{"eventType": "crm.contact.created"}'),
                       ("/events/dlq/reprocess", '{"eventId": "1234567890-0"}')):
        code, doc = api.curl("POST", path, body)
        assert code == 409 and job_id in doc["error"] and f"/events/jobs/{job_id}/cancel" in doc["hint"]


# -- reads ---------------------------------------------------------------------------

def test_reads_for_a_viewer(api):
    seed_runbook_bus(api.bus.r, api.bus)
    code, page = api.curl("GET", "/events/dlq?type=approval.item.created&limit=5", auth=VIEWER)
    assert code == 200 and len(page["entries"]) == 5 and page["nextCursor"]
    assert all(e["type"] == "approval.item.created" for e in page["entries"])
    more = api.curl("GET", f"/events/dlq?type=approval.item.created&limit=5&cursor={page['nextCursor']}",
                    auth=VIEWER)[1]
    assert {e["id"] for e in more["entries"]}.isdisjoint({e["id"] for e in page["entries"]})
    one = api.curl("GET", "/events/dlq/1234567890-0", auth=VIEWER)[1]
    assert one["id"] == "1234567890-0" and one["event"]["type"] == "approval.item.created"
    top = api.curl("GET", "/events/dlq/top", auth=VIEWER)[1]
    assert top["total"] == 31 and top["byType"][0]["key"] == "approval.item.created"
    assert api.curl("GET", "/events/dlq/0-1", auth=VIEWER)[0] == 404
    assert api.curl("GET", "/events/dlq?since=yesterday-ish", auth=VIEWER)[0] == 400
    assert api.curl("GET", "/events/jobs", auth=VIEWER) == (200, {"jobs": []})
    assert api.curl("GET", "/events/approvals", auth=VIEWER) == (200, {"approvals": []})
    assert api.curl("GET", "/events/audit", auth=VIEWER)[0] == 200


def test_jobs_are_listed_and_cancelled(real_r):
    api = Api(build_runtime(Bus(real_r, api_settings()), RecordingNotifier(), start_jobs=False))
    seed_runbook_bus(api.bus.r, api.bus)  # no runner: the job stays RUNNING until cancelled
    approval = api.curl("POST", "/events/dlq/reprocess-all")[1]["approvalId"]
    job_id = api.curl("POST", f"/events/approvals/{approval}/approve", auth=OPS2)[1]["jobId"]
    [listed] = api.curl("GET", "/events/jobs")[1]["jobs"]
    assert (listed["jobId"], listed["status"]) == (job_id, "RUNNING")
    code, doc = api.curl("POST", f"/events/jobs/{job_id}/cancel", auth=VIEWER)
    assert code == 403
    code, doc = api.curl("POST", f"/events/jobs/{job_id}/cancel")
    assert code == 202 and doc["status"] in ("CANCELLING", "CANCELLED")
    assert api.curl("POST", "/events/jobs/jnope/cancel")[0] == 404


# -- tokens and roles -----------------------------------------------------------------

def test_no_token_and_a_wrong_token_are_401_and_nothing_runs(api, caplog):
    seed_runbook_bus(api.bus.r, api.bus)
    for auth in (None, "Bearer not-a-token", f"Basic {TOKENS['ops']}", "Bearer"):
        code, doc = api.curl("POST", "/events/dlq/reprocess", '{"eventId": "1234567890-0"}', auth=auth)
        assert code == 401 and doc["error"] and doc["hint"]
    resp = api.client.get("/events/jobs")
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert api.bus.r.xlen(api.bus.keys.dlq) == 31
    assert all(TOKENS["ops"] not in r.getMessage() for r in caplog.records)


def test_a_viewer_token_reads_but_may_not_act_and_the_refusal_is_audited(api):
    seed_runbook_bus(api.bus.r, api.bus)
    code, doc = api.curl("POST", "/events/dlq/reprocess", '{"eventId": "1234567890-0"}', auth=VIEWER)
    assert code == 403 and doc["error"] == ("Only busbot operators can reprocess DLQ entries, and api:viewer "
                                            "is not one of them.")
    assert api.bus.r.xlen(api.bus.keys.dlq) == 31
    [refusal] = [a for a in audit.latest(api.bus, 10) if a.what == "refused"]
    assert refusal.who == "api:viewer" and refusal.result == "not an operator"
    approval = api.curl("POST", "/events/dlq/reprocess-all")[1]["approvalId"]
    assert api.curl("POST", f"/events/approvals/{approval}/approve", auth=VIEWER)[0] == 403
    assert api.curl("POST", f"/events/approvals/{approval}/reject", auth=OPS2)[1]["state"] == "REJECTED"
    assert api.curl("GET", f"/events/replay/status/{approval}")[1]["status"] == "CANCELLED"


def test_an_api_request_is_approved_through_the_slack_button_handler(api):
    """The approval message the API posts carries the usual buttons; a Slack operator's
    click on Approve (the very handler Slack requests reach) starts the job."""
    seed_runbook_bus(api.bus.r, api.bus)
    doc = api.curl("POST", "/events/dlq/reprocess-type", '{"eventType": "crm.contact.created"}')[1]
    [(posted, _)] = api.rt.notifier.posts
    token = next(b["value"] for b in posted.context["buttons"] if b["action_id"] == "guard_approve")
    assert token == doc["approvalId"]
    reply = router.run_action("guard_approve", token, api.rt, "U0BOB", "C0ACTIONS")
    assert reply.template == "job"
    done = api.wait_job(doc["approvalId"])
    assert done["approvedBy"] == "U0BOB" and done["moved"] == 10


# -- bad requests ---------------------------------------------------------------------

@pytest.mark.parametrize("path, body, named", [
    ("/events/dlq/reprocess", '{"eventId": "1234567890-0", "force": true}', "force"),
    ("/events/dlq/reprocess", '{"eventID": "1234567890-0"}', "eventID"),
    ("/events/dlq/reprocess", "{}", "eventId"),
    ("/events/dlq/reprocess", '{"eventId": 12}', "eventId"),
    ("/events/dlq/reprocess", '{"eventId": "a b"}', "eventId"),
    ("/events/dlq/reprocess-type", '{"eventType": ""}', "eventType"),
    ("/events/dlq/reprocess-all", '{"eventType": "x"}', "eventType"),
    ("/events/replay", '{"limit": "lots"}', "limit"),
    ("/events/replay", '{"batchSize": 0}', "batchSize"),
    ("/events/replay", '{"eventTypes": "a.b"}', "eventTypes"),
    ("/events/replay", '{"startTime": "yesterday-ish"}', "startTime"),
    ("/events/consumers/pause", '{"group": "a,b"}', "group"),
])
def test_bad_bodies_are_400_naming_the_field(api, path, body, named):
    code, doc = api.curl("POST", path, body)
    assert code == 400 and named in doc["error"] and doc["hint"], doc


@pytest.mark.parametrize("body", ["not json", "[1, 2]", '"eventId"'])
def test_a_body_that_is_not_a_json_object_is_400(api, body):
    code, doc = api.curl("POST", "/events/dlq/reprocess", body)
    assert code == 400 and "JSON" in doc["error"]


def test_an_unknown_event_id_is_404(api):
    code, doc = api.curl("POST", "/events/dlq/reprocess", '{"eventId": "1764000000000-0"}')
    assert code == 404 and "1764000000000-0" in doc["error"]


def test_a_body_over_1_mb_is_413(api):
    body = json.dumps({"eventId": "1-0", "pad": "x" * (2 * 1024 * 1024)})
    code, doc = api.curl("POST", "/events/dlq/reprocess", body)
    assert code == 413 and "1 MB" in doc["error"]


def test_redis_down_is_503_with_a_sentence(settings):
    url = f"redis://127.0.0.1:{free_port()}/0"
    bus = Bus(connect(url), api_settings(), where=url)
    api = Api(build_runtime(bus, RecordingNotifier(), start_jobs=False))
    for method, path, body in (("GET", "/events/jobs", None), ("GET", "/events/dlq", None),
                               ("POST", "/events/dlq/reprocess", '{"eventId": "1-0"}'),
                               ("POST", "/events/consumers/pause", None)):
        code, doc = api.curl(method, path, body)
        assert code == 503 and "refused the connection" in doc["error"], (path, doc)


# -- the OpenAPI document -----------------------------------------------------------------

def test_openapi_is_generated_from_the_route_table_and_valid(api):
    from bot.web.api import ROUTES

    code, doc = api.curl("GET", "/events/openapi.json", auth=None)
    assert code == 200 and doc["openapi"].startswith("3.1")
    for route in ROUTES:
        path = route.path.replace("<", "{").replace(">", "}")
        assert route.method.lower() in doc["paths"][path], path
    body = doc["paths"]["/events/dlq/reprocess"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/ReprocessOne"}
    one = doc["components"]["schemas"]["ReprocessOne"]
    assert one["additionalProperties"] is False and one["required"] == ["eventId"]
    answers = doc["paths"]["/events/dlq/reprocess"]["post"]["responses"]
    assert {"404", "409", "413", "422"} <= set(answers)  # every status the route can answer
    assert "413" not in doc["paths"]["/events/jobs"]["get"]["responses"]  # no body, no size limit
    params = {p["name"] for p in doc["paths"]["/events/dlq"]["get"]["parameters"]}
    assert params == {"type", "since", "until", "error", "tenant", "cursor", "limit", "env"}
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(doc)


@pytest.mark.parametrize("raw", ["ops:tok-A1b2,ops:tok-C3d4", "tok-A1b2", "ops:"])
def test_serve_refuses_malformed_api_tokens_without_showing_them(raw):
    from bot.slack.cli import token_problem

    problem = token_problem(Settings(_env_file=None, bus_api_tokens=raw))
    assert problem and problem.startswith("BUS_API_TOKENS: ") and "tok-" not in problem
    assert token_problem(Settings(_env_file=None, bus_api_tokens="ops:tok-A1b2")) is None


def test_api_requests_beyond_the_limit_are_503_at_once(api, monkeypatch):
    """A bulk preview reads the whole DLQ: at most a few API requests work at once, so the
    API can never hold every HTTP thread (Slack's acks share them)."""
    from bot.web import api as api_module

    slots = api_module.ProbeLimiter(1)
    monkeypatch.setattr(api_module, "ProbeLimiter", lambda n: slots)
    client = create_app(api.bus, None, probe=api.bus, rt=api.rt).test_client()
    with slots.slot():  # one request is at work
        resp = client.get("/events/jobs", headers={"Authorization": OPS})
        assert resp.status_code == 503 and resp.headers["Retry-After"] == "2"
    assert client.get("/events/jobs", headers={"Authorization": OPS}).status_code == 200


def test_a_request_confirmed_in_slack_is_approved_through_the_api(api):
    seed_runbook_bus(api.bus.r, api.bus)
    preview = router.run("reprocess all", api.rt, "U0BOB")
    token = next(b["value"] for b in preview.context["buttons"] if b["action_id"] == "guard_confirm")
    assert router.run_action("guard_confirm", token, api.rt, "U0BOB", "C0INCIDENT").template == "guard_approval"
    assert api.curl("GET", f"/events/replay/status/{token}")[1]["status"] == "AWAITING_APPROVAL"
    code, doc = api.curl("POST", f"/events/approvals/{token}/approve", auth=OPS2)
    assert code == 200 and doc["state"] == "APPROVED"
    done = api.wait_job(token)
    assert (done["by"], done["approvedBy"], done["moved"]) == ("U0BOB", "api:ops2", 31)


@pytest.mark.parametrize("api", [{"bus_viewers": "U0SOMEONE", "bus_approvers": "api:ops2"}], indirect=True)
def test_roles_bind_api_callers_as_everyone_else(api):
    """Reads need a viewer (operators and approvers read too), approvals an approver."""
    seed_runbook_bus(api.bus.r, api.bus)
    code, doc = api.curl("GET", "/events/jobs", auth=VIEWER)  # api:viewer is not in BUS_VIEWERS
    assert code == 403 and "BUS_VIEWERS" in doc["hint"]
    assert api.curl("GET", "/events/jobs", auth=OPS)[0] == 200
    approval = api.curl("POST", "/events/dlq/reprocess-all")[1]["approvalId"]
    code, doc = api.curl("POST", f"/events/approvals/{approval}/approve", auth=OPS)
    assert code == 403 and "BUS_APPROVERS" in doc["hint"]
    assert api.curl("POST", f"/events/approvals/{approval}/approve", auth=OPS2)[0] == 200
