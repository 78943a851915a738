"""Job progress through the outbox when the Slack stand-in answers 429 with Retry-After: the
message waits until Retry-After has passed and is then posted once, with its update."""
from __future__ import annotations

from slack_sdk import WebClient

from bot.actions.runtime import hooks_for
from bot.alerts import outbox
from bot.alerts.outbox import OutboxNotifier
from bot.jobs.runner import JobRunner
from bot.runtime import build_runtime
from bot.slack.poster import SlackPoster
from bot.slack.transport import SlackTransport
from tests.e2e.test_alerts_e2e import answer_429_first
from tests.guard_helpers import gbus  # noqa: F401  (gbus: fixture)
from tests.jobs_helpers import new_job, seed_dlq

POST, UPDATE = "/api/chat.postMessage", "/api/chat.update"


def test_job_progress_under_429_is_posted_once_after_retry_after(gbus, stub):  # noqa: F811
    answer_429_first(stub, "chat.postMessage", retry_after=7)
    rt = build_runtime(gbus, OutboxNotifier(gbus, "C0JOBS"), start_jobs=False)
    slack = SlackTransport(SlackPoster(WebClient(token="xoxb-e2e", base_url=stub.api_url)))
    seed_dlq(gbus.r, gbus.keys.dlq, 4)
    job = new_job(gbus, "reprocess", gbus.keys.dlq, gbus.keys.events, {}, to_move=4)
    JobRunner(gbus, rt.notifier, hooks=hooks_for(rt.notifier)).tick()  # progress, then the summary

    outbox.deliver(gbus, slack, None)
    assert len(stub.to(POST + "#429")) == 1 and stub.to(POST) == []
    gbus.clock.advance(6)
    outbox.deliver(gbus, slack, None)  # Retry-After has not passed: nothing is sent
    assert len(stub.to(POST + "#429")) == 1 and stub.to(POST) == []
    gbus.clock.advance(1.5)
    outbox.deliver(gbus, slack, None)
    outbox.deliver(gbus, slack, None)  # nothing left: nothing twice
    [posted] = stub.to(POST)
    [updated] = stub.to(UPDATE)
    assert posted["channel"] == "C0JOBS" and job.id in posted["text"]
    assert updated["ts"] and "COMPLETED" in updated["text"]
