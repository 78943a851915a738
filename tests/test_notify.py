"""OutboxNotifier: job messages are queued in Redis and delivered in order (post, then its
updates and thread lines) as valid Block Kit; a failure to queue never stops a job."""
from __future__ import annotations

from bot.actions.progress import ActionHooks, job_message
from bot.alerts import outbox
from bot.alerts.outbox import OutboxNotifier
from bot.bus import Bus
from bot.connection import connect
from bot.jobs import store
from bot.notify import Message
from bot.settings import Settings
from tests.alerts.helpers import FakeTransport
from tests.blockcheck import assert_valid_message
from tests.guard_helpers import gbus  # noqa: F401  (gbus: fixture)
from tests.jobs_helpers import new_job


def test_job_messages_posted_then_updated_as_valid_blocks(gbus):  # noqa: F811
    slack = FakeTransport()
    hooks = ActionHooks(OutboxNotifier(gbus, "C0OPS"))
    job = new_job(gbus, "reprocess", gbus.keys.dlq, gbus.keys.events, {"type": "x"}, to_move=5)
    hooks.progress(gbus, job)
    assert slack.calls == []  # queued, not sent: the outbox delivers
    hooks.progress(gbus, store.finish(gbus, store.get(gbus, job.id), "COMPLETED"), final=True)
    outbox.deliver(gbus, slack, None)
    (first, last) = slack.calls
    assert (first["op"], first["channel"], last["op"], last["ts"]) == ("post", "C0OPS", "update", first["ts"])
    for call in (first, last):
        assert_valid_message(call["message"])
    assert "job_cancel" in str(first["message"]) and "job_cancel" not in str(last["message"])
    assert "COMPLETED" in last["message"]["text"]


def test_only_the_newest_of_several_waiting_updates_goes_out(gbus):  # noqa: F811
    slack, notifier = FakeTransport(), OutboxNotifier(gbus, "C0OPS")
    ref = notifier.post(Message("alert_thread", {"text": "start", "late": None}, "start"))
    for n in range(5):
        notifier.update(ref, Message("alert_thread", {"text": f"step {n}", "late": None}, f"step {n}"))
    notifier.post(Message("alert_thread", {"text": "a reply", "late": None}, "a reply"), thread_ts=ref)
    outbox.deliver(gbus, slack, None)
    assert [(c["op"], c["message"]["text"]) for c in slack.calls] == [
        ("post", "start"), ("update", "step 4"), ("post", "a reply")]
    assert slack.calls[2]["thread_ts"] == slack.calls[0]["ts"]


def test_a_failure_to_queue_is_logged_not_raised(caplog):
    down = Bus(connect("redis://127.0.0.1:1/0"), Settings(_env_file=None), where="nowhere")
    notifier = OutboxNotifier(down, "C0OPS")
    job_msg = Message("alert_thread", {"text": "x", "late": None}, "progress")
    assert notifier.post(job_msg) is None
    notifier.update("msg.0123", job_msg)
    assert "queueing 'progress' for C0OPS failed" in caplog.text
    assert "queueing an update of msg.0123 failed" in caplog.text


def test_job_message_of_a_purge_renders(gbus):  # noqa: F811
    job = new_job(gbus, "purge", gbus.keys.dlq, gbus.keys.dlq_archive, {})
    slack = FakeTransport()
    OutboxNotifier(gbus, "C0OPS").post(job_message(gbus, job))
    outbox.deliver(gbus, slack, None)
    assert_valid_message(slack.calls[0]["message"])
