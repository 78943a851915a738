"""Slack's answers as the outbox's outcomes: 429 + Retry-After, permanent and transient errors."""
from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.slack_response import SlackResponse

from bot.notify import DeliveryFailed, RateLimited
from bot.slack.transport import SlackTransport


def answer(status: int, error: str, headers: dict | None = None) -> SlackApiError:
    response = SlackResponse(client=None, http_verb="POST", api_url="https://slack.test/api/chat.postMessage",
                             req_args={}, data={"ok": False, "error": error}, headers=headers or {},
                             status_code=status)
    return SlackApiError(error, response)


class Poster:
    def __init__(self, exc: Exception):
        self.exc = exc

    def post(self, *args, **kwargs):
        raise self.exc

    def update(self, *args, **kwargs):
        raise self.exc


def test_429_carries_retry_after():
    with pytest.raises(RateLimited) as got:
        SlackTransport(Poster(answer(429, "ratelimited", {"retry-after": "7"}))).post("C1", {})
    assert got.value.retry_after == 7


@pytest.mark.parametrize("status,error,permanent", [
    (200, "channel_not_found", True), (200, "message_not_found", True),
    (500, "internal_error", False), (503, "service_unavailable", False)])
def test_errors_are_permanent_or_transient(status, error, permanent):
    with pytest.raises(DeliveryFailed) as got:
        SlackTransport(Poster(answer(status, error))).update("C1", "1.2", {})
    assert got.value.permanent is permanent and got.value.reason == error


def test_unreachable_slack_is_transient():
    with pytest.raises(DeliveryFailed) as got:
        SlackTransport(Poster(TimeoutError("timed out"))).post("C1", {})
    assert not got.value.permanent
