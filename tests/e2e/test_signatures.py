"""Slack's signature is checked before anything runs: forged or stale requests get 401."""
from __future__ import annotations

import time

import pytest

from commands import router
from tests.e2e.slack_stub import command_body, http


@pytest.fixture
def runs(monkeypatch) -> list[str]:
    """Records each command the router runs (and still runs it)."""
    seen: list[str] = []
    real = router.run

    def recording(text, *args, **kwargs):  # whatever else the router takes (user, channel) passes through
        seen.append(text)
        return real(text, *args, **kwargs)
    monkeypatch.setattr(router, "run", recording)
    return seen


def _nothing_happens(stub, runs, path: str) -> None:
    time.sleep(0.3)  # long enough for a wrongly accepted command to have answered
    assert runs == []
    assert stub.to(path) == []


def test_forged_signature_is_refused(bot, stub, runs):
    body = command_body("health", stub.response_url("forged"))
    assert bot.post_signed(body, secret="not-the-secret")[0] == 401
    _nothing_happens(stub, runs, "/response/forged")


def test_stale_timestamp_is_refused(bot, stub, runs):
    body = command_body("health", stub.response_url("stale"))
    assert bot.post_signed(body, timestamp=int(time.time()) - 6 * 60)[0] == 401
    _nothing_happens(stub, runs, "/response/stale")


def test_unsigned_request_is_refused(bot, stub, runs):
    body = command_body("health", stub.response_url("unsigned"))
    status, _, _ = http("POST", bot.url + "/slack/events", body,
                        {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 401
    _nothing_happens(stub, runs, "/response/unsigned")


def test_a_good_signature_runs_the_command(bot, stub, runs):
    """The control for the tests above: the same request, signed right, does run."""
    assert bot.post_signed(command_body("health", stub.response_url("good")))[0] == 200
    stub.wait_for("/response/good")
    assert runs == ["health"]
