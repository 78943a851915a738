"""A bug in the adapter's own path: the trace goes to the log, the user gets a sentence."""
from __future__ import annotations

import logging

from bot.slack import app as slack_app
from tests.e2e.slack_stub import command_body


def test_a_failing_render_becomes_a_plain_sentence(bot, stub, monkeypatch, caplog):
    def broken(reply):
        raise ValueError("template health produced invalid JSON")
    monkeypatch.setattr(slack_app, "render_reply", broken)
    with caplog.at_level(logging.ERROR):
        assert bot.post_signed(command_body("health", stub.response_url("bug")))[0] == 200
        msg = stub.wait_for("/response/bug")[0]
    assert msg == {"text": slack_app.SORRY, "response_type": "ephemeral", "replace_original": False}
    assert any(r.exc_info and "invalid JSON" in str(r.exc_info[1]) for r in caplog.records), \
        "the trace is logged"
