"""Helpers for the guarded-flow tests: a bus with operators and a fake clock, rendering
checks, and clicking a reply's buttons through `router.run_action`."""
from __future__ import annotations

import pytest

from bot.bus import Bus
from bot.console.render_text import render_reply_text
from bot.render import RENDER_FAILED, render_reply
from bot.runtime import Runtime
from bot.settings import Settings
from commands import router
from tests.blockcheck import assert_valid_message
from tests.conftest import FakeClock, names
from tests.runtime_helpers import manual_runtime


@pytest.fixture
def gbus(r, request) -> Bus:
    settings = Settings(_env_file=None, bus_operators="U1,U2,U3", **names(request))
    return Bus(r, settings, clock=FakeClock(), where="test redis")


@pytest.fixture
def grt(gbus) -> Runtime:
    """The runtime over `gbus`: the tests tick runners themselves; `grt.notifier` records."""
    return manual_runtime(gbus)


def show(reply) -> dict:
    """The reply as Slack gets it (validated), and rendered for the console without error."""
    message = render_reply(reply)
    assert_valid_message(message)
    assert RENDER_FAILED not in render_reply_text(reply, width=100).text
    return message


def buttons(reply) -> dict:
    return {b["action_id"]: b for b in reply.context.get("buttons", [])}


def click(rt, reply, action_id, user):
    out = router.run_action(action_id, buttons(reply)[action_id]["value"], rt, user)
    show(out)
    return out
