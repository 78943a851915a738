"""PosterNotifier: what the Slack poster receives is valid Block Kit; its API errors are
logged and never stop a job."""
from __future__ import annotations

from bot.actions.progress import ActionHooks, job_message
from bot.jobs import store
from bot.notify import PosterNotifier
from tests.blockcheck import assert_valid_message
from tests.guard_helpers import gbus  # noqa: F401  (fixture)
from tests.jobs_helpers import new_job


class Poster:
    def __init__(self, fail: bool = False):
        self.fail, self.calls = fail, []

    def post(self, channel, message, thread_ts=None):
        if self.fail:
            raise RuntimeError("channel_not_found")
        self.calls.append(("post", channel, message, thread_ts))
        return "1764000000.000100"

    def update(self, channel, ts, message):
        if self.fail:
            raise RuntimeError("message_not_found")
        self.calls.append(("update", channel, message, ts))


def test_job_messages_posted_then_updated_as_valid_blocks(gbus):  # noqa: F811
    poster = Poster()
    hooks = ActionHooks(PosterNotifier(poster, "C0OPS", errors=(RuntimeError,)))
    job = new_job(gbus, "reprocess", gbus.keys.dlq, gbus.keys.events, {"type": "x"}, to_move=5)
    hooks.progress(gbus, job)
    hooks.progress(gbus, store.finish(gbus, store.get(gbus, job.id), "COMPLETED"), final=True)
    (kind1, ch, first, _), (kind2, _, last, ts) = poster.calls
    assert (kind1, kind2, ch, ts) == ("post", "update", "C0OPS", "1764000000.000100")
    for message in (first, last):
        assert_valid_message(message)
    assert "job_cancel" in str(first) and "job_cancel" not in str(last)
    assert "COMPLETED" in last["text"]


def test_poster_errors_are_logged_not_raised(gbus, caplog):  # noqa: F811
    notifier = PosterNotifier(Poster(fail=True), "C0OPS", errors=(RuntimeError,))
    job = new_job(gbus, "purge", gbus.keys.dlq, gbus.keys.dlq_archive, {})
    assert notifier.post(job_message(gbus, job)) is None
    notifier.update("1.2", job_message(gbus, job))
    assert "channel_not_found" in caplog.text and "message_not_found" in caplog.text
