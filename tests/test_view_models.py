"""Every answer is a view model other renderers (JSON, HTML) can take: plain data, its intent
in neutral terms, and no setting it was not asked for."""
from __future__ import annotations

import dataclasses
import json

import pytest
from pydantic import SecretStr

from bot.demo import seed
from commands import router
from commands.reply import Reply, plain_data
from tests.runtime_helpers import manual_runtime

COMMANDS = ["health", "dlq", "dlq top", "dlq list", "groups", "events", "redis", "help", "alerts", "jobs",
            "audit", "approvals", "reprocess all", "dlq purge", "replay from=2h to=now", "trim 10", "pause",
            "nonsense", "dlq show nope"]


def test_a_reply_speaks_of_intent_not_of_slack():
    names = {f.name for f in dataclasses.fields(Reply)}
    assert {"visibility", "replaces"} <= names
    assert not names & {"response_type", "replace_original", "blocks"}


@pytest.mark.parametrize("command", COMMANDS)
def test_every_answer_is_plain_serialisable_data_without_secrets(bus, command):
    seed(bus)
    bus.settings = bus.settings.model_copy(update={"bus_operators": "console",
                                                   "slack_bot_token": SecretStr("xoxb-not-for-views")})
    reply = router.run(command, manual_runtime(bus), "console")
    data = json.dumps(plain_data(reply.context))
    assert "xoxb-not-for-views" not in data and "slack_bot_token" not in data
    assert reply.visibility in ("private", "channel")


def test_plain_data_refuses_what_json_cannot_hold():
    with pytest.raises(TypeError):
        plain_data({"x": object()})
