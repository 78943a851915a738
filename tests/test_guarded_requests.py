"""The stored guarded request: each step moves it once, and a step never hands back nothing."""
from __future__ import annotations

import pytest

from bot.actions import requests
from bot.actions.requests import GuardedRequest, StepRefused
from bot.bus import Bus
from bot.settings import Settings
from tests.conftest import FakeClock, names


@pytest.fixture
def gbus(r, request) -> Bus:
    return Bus(r, Settings(_env_file=None, **names(request)), clock=FakeClock(), where="test redis")


def test_a_request_deleted_right_after_its_step_reads_as_missing(gbus, monkeypatch):
    req = requests.create(gbus, GuardedRequest(token="", kind="reprocess", command="reprocess all",
                                               requester="U1"))
    script = gbus.scripts.get("approval_step")

    def step_then_delete(keys, args):
        out = script(keys=keys, args=args)
        gbus.r.delete(keys[0])  # gone (deleted by hand) before the step reads it back
        return out

    monkeypatch.setattr(gbus.scripts, "get", lambda name: step_then_delete)
    with pytest.raises(StepRefused) as refused:
        requests.step(gbus, req.token, "PREVIEWED", "CONFIRMED", confirmed_by="U1")
    assert refused.value.reason == "missing" and refused.value.request is None


def test_a_step_returns_the_request_as_it_now_is(gbus):
    req = requests.create(gbus, GuardedRequest(token="", kind="reprocess", command="reprocess all",
                                               requester="U1"))
    moved = requests.step(gbus, req.token, "PREVIEWED", "CONFIRMED", confirmed_by="U1")
    assert (moved.state, moved.confirmed_by) == ("CONFIRMED", "U1")
