"""A request Slack did not sign causes nothing: 401, no listener, no error handler, no
request to the `response_url` it names, and its body never reaches the log. Bodies over
1 MB are refused with 413 before anything reads them."""
from __future__ import annotations

import logging
import time
import urllib.error
import urllib.request

import pytest
from slack_bolt.request import BoltRequest

from tests.e2e.slack_stub import command_body, http, signed_headers

LOG_BUDGET = 64 * 1024  # characters all log records during one refused request may add up to
PAD = "x" * 200  # a piece of the refused body: no log record may hold it


def sent(stub) -> list[str]:
    """Paths busbot sent requests to, besides its start-up auth.test."""
    return [r.path for r in stub.requests if r.path != "/api/auth.test"]


def _post(bot, body: str, headers: dict) -> tuple[int, str]:
    status, text, _ = http("POST", bot.url + "/slack/events", body, headers)
    return status, text


def _logged(caplog) -> int:
    """Characters logged (records of other threads included); fails if the body shows."""
    texts = [caplog.handler.format(r) for r in caplog.records]
    assert not any(PAD in t for t in texts), "the refused body reached the log"
    return sum(len(t) for t in texts)


@pytest.mark.parametrize("timestamp", ["abc", "", "1e3", "17640000000000000000000000"])
def test_a_malformed_timestamp_is_401_and_nothing_reaches_the_response_url(bot, stub, timestamp):
    body = command_body("health", stub.response_url("ssrf"))
    headers = {**signed_headers(body), "X-Slack-Request-Timestamp": timestamp}
    status, text = _post(bot, body, headers)
    assert status == 401 and "signed by Slack" in text
    # Bolt's error boundary answers synchronously, inside the request: had it run, the
    # stand-in would have the request by now.
    assert sent(stub) == []


def test_a_body_that_is_not_utf8_is_401(bot, stub):
    req = urllib.request.Request(bot.url + "/slack/events", data=b"\xff\xfe response_url=x", method="POST",
                                 headers={"X-Slack-Request-Timestamp": str(int(time.time())),
                                          "X-Slack-Signature": "v0=00"})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=10)
    assert err.value.code == 401
    assert sent(stub) == []


def test_the_error_boundary_never_answers_a_request_bolt_did_not_verify(bus, stub, settings):
    """Behind the HTTP check, Bolt's own boundary holds too: a request whose signature check
    raised gets no "Sorry" at the response_url it names."""
    from bot.runtime import build_runtime
    from bot.slack.app import build_app
    from tests.e2e.conftest import slack_settings

    app = build_app(slack_settings(settings, stub), build_runtime(bus, start_jobs=False))
    body = command_body("health", stub.response_url("direct"))
    headers = {**signed_headers(body), "X-Slack-Request-Timestamp": "abc"}
    resp = app.dispatch(BoltRequest(body=body, headers={k.lower(): v for k, v in headers.items()}))
    assert resp.status >= 400
    assert stub.to("/response/direct") == []


def test_a_verified_request_that_fails_still_gets_the_sorry(bus, stub, settings, monkeypatch):
    """The control for the test above: after verification, the boundary does answer."""
    from bot.runtime import build_runtime
    from bot.slack import app as slack_app
    from tests.e2e.conftest import slack_settings

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")
    monkeypatch.setattr(slack_app, "ack_now", broken)
    app = slack_app.build_app(slack_settings(settings, stub), build_runtime(bus, start_jobs=False))
    body = command_body("health", stub.response_url("sorry"))
    headers = {k.lower(): v for k, v in signed_headers(body).items()}
    app.dispatch(BoltRequest(body=body, headers=headers))
    assert stub.to("/response/sorry")[0]["text"].startswith("Sorry")


@pytest.mark.parametrize("size", [2 * 1024 * 1024, 8 * 1000 * 1000])
def test_a_body_over_1_mb_is_413_and_not_logged(bot, stub, caplog, size):
    caplog.set_level(logging.DEBUG)
    body = command_body("health", stub.response_url("big")) + "&pad=" + "x" * size
    status, text = _post(bot, body, signed_headers(body, secret="wrong"))
    assert status == 413 and "1 MB" in text
    assert sent(stub) == []
    assert _logged(caplog) < LOG_BUDGET


def test_a_large_unsigned_body_under_the_cap_is_401_and_not_logged(bot, stub, caplog):
    caplog.set_level(logging.DEBUG)
    body = command_body("health", stub.response_url("bad")) + "&pad=" + "x" * 900_000
    status, _ = _post(bot, body, signed_headers(body, secret="wrong"))
    assert status == 401
    assert sent(stub) == []
    assert _logged(caplog) < LOG_BUDGET


def test_a_signed_body_just_under_the_cap_is_served(bot, stub):
    body = command_body("health", stub.response_url("near")) + "&pad=" + "x" * 1_000_000
    assert len(body) < 1024 * 1024
    assert bot.post_signed(body)[0] == 200
    stub.wait_for("/response/near")
