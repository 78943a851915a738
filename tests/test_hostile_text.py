"""Values from the bus (event types, group names, error text) never ping anyone and never
reorder what is shown: escaped in the blocks and in the fallback text, without bidi
overrides or control characters, in command replies, alert posts and job progress."""
from __future__ import annotations

import json

from bot.actions.progress import job_message
from bot.alerts import outbox
from bot.alerts.machine import AlertState
from bot.alerts.outbox import OutboxNotifier
from bot.alerts.rules import lag_rule
from bot.alerts.view import root_view, thread_line
from bot.notify import Message
from bot.render import fallback_text, md, render, render_reply
from commands import router
from tests.blockcheck import assert_valid_message
from tests.factories import add_dlq, add_event
from tests.test_authorization import runtime

EVIL_TYPE = "<!channel> evil\u202etxt.exe"
EVIL_GROUP = "ops<@U123>"
RAW = ("<!channel>", "<@U123>", "<!here>", "\u202e", "\x07")


def mrkdwn_texts(value) -> list[str]:
    """Every text Slack parses for mentions (plain_text headers and button values it does not)."""
    if isinstance(value, list):
        return [t for v in value for t in mrkdwn_texts(v)]
    if isinstance(value, dict):
        own = [value["text"]] if value.get("type") == "mrkdwn" and isinstance(value.get("text"), str) else []
        return own + [t for v in value.values() if isinstance(v, (list, dict)) for t in mrkdwn_texts(v)]
    return []


def assert_harmless(message: dict) -> None:
    dumped = json.dumps(message, ensure_ascii=False)
    assert "\u202e" not in dumped and "\x07" not in dumped  # nowhere, not even in a header
    for text in [message.get("text", ""), *mrkdwn_texts(message.get("blocks", []))]:
        for raw in RAW:
            assert raw not in text, (raw, text)


def test_md_and_fallback_text_drop_bidi_and_control_characters():
    assert md("a\u202eb\u2066c\x07d\ne\tf") == "abcd\ne\tf"
    assert fallback_text("<!channel> &amp; a&b") == "&lt;!channel&gt; &amp; a&amp;b"  # idempotent on escapes


def test_hostile_values_in_command_replies(bus):
    add_event(bus.r, bus.keys.events, 1_764_000_000_000, type_=EVIL_TYPE)
    add_dlq(bus.r, bus.keys.dlq, 1_764_000_000_001, type_=EVIL_TYPE, error="<!here> boom \x07\u202e")
    bus.r.xgroup_create(bus.keys.events, EVIL_GROUP, id="0")
    rt = runtime(bus)
    for command in (f"events type='{EVIL_TYPE}'", "events", "dlq top", "dlq list",
                    "groups", "health", f"event <!channel>{EVIL_GROUP}", "dlq show 1764000000001-0"):
        reply = router.run(command, rt, "U1")
        message = render_reply(reply)
        assert_valid_message(message)
        assert_harmless(message)


def test_a_shared_error_reply_does_not_ping(bus):
    reply = router.run_action("bus_share", "event <!channel>", runtime(bus), "U1")
    message = render_reply(reply)
    assert_harmless(message)


def test_hostile_group_name_in_an_alert_post(settings):
    rule = lag_rule(settings, EVIL_GROUP + "\u202e")
    st = AlertState(level="critical", value=9000, since=1, episode=1, peak=9000)
    for message in (render("alert", {"a": root_view(rule, st), "now": 2, "late": None}),):
        assert_valid_message(message)
        assert_harmless(message)
    from bot.alerts.machine import Event

    line = thread_line(rule, st, Event(kind="fire", before="warning", after="critical", at_ms=2))
    message = render("alert_thread", {"text": line, "late": None})
    assert_harmless(message)


class RecordingPoster:
    def __init__(self) -> None:
        self.messages: list[dict] = []

    def post(self, channel, message, thread_ts=None):
        self.messages.append(message)
        return "1.0"

    def update(self, channel, ts, message):
        self.messages.append(message)


def test_hostile_text_in_a_job_progress_message(bus):
    poster = RecordingPoster()
    notifier = OutboxNotifier(bus, "C_OPS")
    notifier.post(Message("alert_thread", {"text": "plain", "late": None}, f"Job for {EVIL_TYPE} {EVIL_GROUP}"))
    from bot.jobs.model import Job

    job = Job(id="j1", kind="reprocess", source=bus.keys.dlq, target=bus.keys.events,
              params={"type": EVIL_TYPE}, by=EVIL_GROUP, to_move=3)
    notifier.post(job_message(bus, job))  # its selection and requester carry the hostile text
    outbox.deliver(bus, poster, None)
    assert len(poster.messages) == 2
    assert any("&lt;!channel&gt;" in json.dumps(m["blocks"]) for m in poster.messages)
    for message in poster.messages:
        assert_harmless(message)
