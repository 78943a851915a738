"""A local stand-in for Slack: the Web API (`/api/<method>`) and `response_url`s, on
127.0.0.1, recording every request; plus Slack-signed requests to the bot, the way
bolt-python's own scenario tests build them (HMAC-SHA256 `v0:<timestamp>:<body>`)."""
from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode

from slack_sdk.signature import SignatureVerifier

SECRET = "e2e-signing-secret"
TEAM, CHANNEL = "T0E2E", "C0E2E"
API_ANSWERS = {
    "auth.test": {"user_id": "UBOT", "bot_id": "BBOT", "team_id": TEAM, "team": "e2e",
                  "user": "busbot", "url": "https://e2e.slack.com/"},
    "chat.postMessage": {"ts": "1764000000.000100", "channel": CHANNEL},
    "chat.update": {"ts": "1764000000.000100", "channel": CHANNEL},
}


@dataclass
class Recorded:
    path: str
    body: dict
    at: float = field(default_factory=time.perf_counter)


class SlackStub:
    def __init__(self, port: int = 0):
        self.requests: list[Recorded] = []
        # Web API method -> fields of its answer over API_ANSWERS, or fn(request body) -> fields
        self.answers: dict[str, dict | Callable[[dict], dict]] = {}
        self.down: set[str] = set()  # Web API methods answered 503, as during a Slack outage
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                body = _decode(raw, self.headers.get("Content-Type", ""))
                stub._record(Recorded(self.path, body))
                method = self.path.removeprefix("/api/")
                if method in stub.down:
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                extra = stub.answers.get(method, {})
                extra = extra(body) if callable(extra) else extra
                answer = {"ok": True, **API_ANSWERS.get(method, {}), **extra} if self.path.startswith("/api/") else "ok"
                data = json.dumps(answer).encode() if isinstance(answer, dict) else answer.encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json" if isinstance(answer, dict) else "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/"

    @property
    def api_url(self) -> str:
        return self.url + "api/"

    def response_url(self, name: str = "r1") -> str:
        return f"{self.url}response/{name}"

    def start(self) -> SlackStub:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _record(self, rec: Recorded) -> None:
        with self._lock:
            self.requests.append(rec)

    def to(self, path: str) -> list[dict]:
        with self._lock:
            return [r.body for r in self.requests if r.path == path]

    def arrivals(self, prefix: str) -> dict[str, float]:
        """path -> perf_counter() time it was first reached, for paths under `prefix`."""
        with self._lock:
            return {r.path: r.at for r in reversed(self.requests) if r.path.startswith(prefix)}

    def wait_for(self, path: str, n: int = 1, timeout: float = 10.0) -> list[dict]:
        """The first `n` bodies sent to `path`; fails after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.to(path)
            if len(got) >= n:
                return got
            time.sleep(0.01)
        raise AssertionError(f"{len(self.to(path))} of {n} requests reached {path} within {timeout}s; "
                             f"seen: {[r.path for r in self.requests]}")


def _decode(raw: str, content_type: str) -> dict:
    if "json" in content_type:
        return json.loads(raw or "{}")
    return {k: v[0] for k, v in parse_qs(raw).items()}


def command_body(text: str, response_url: str, user: str = "U0ALICE") -> str:
    return urlencode({"token": "legacy", "team_id": TEAM, "team_domain": "e2e", "channel_id": CHANNEL,
                      "channel_name": "incidents", "user_id": user, "user_name": "alice",
                      "command": "/bus", "text": text, "api_app_id": "A0E2E",
                      "response_url": response_url, "trigger_id": "1.2.3"})


def action_body(action_id: str, value: str, response_url: str, user: str = "U0BOB") -> str:
    payload = {"type": "block_actions", "user": {"id": user, "username": "bob", "team_id": TEAM},
               "api_app_id": "A0E2E", "token": "legacy", "trigger_id": "1.2.3",
               "team": {"id": TEAM, "domain": "e2e"}, "channel": {"id": CHANNEL, "name": "incidents"},
               "container": {"type": "message", "message_ts": "1764000000.000100", "channel_id": CHANNEL,
                             "is_ephemeral": True},
               "response_url": response_url,
               "actions": [{"type": "button", "action_id": action_id, "block_id": "b1", "value": value,
                            "action_ts": "1764000001.000200", "text": {"type": "plain_text", "text": "x"}}]}
    return urlencode({"payload": json.dumps(payload)})


def signed_headers(body: str, secret: str = SECRET, timestamp: int | None = None) -> dict:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature,
            "Content-Type": "application/x-www-form-urlencoded"}


def http(method: str, url: str, body: str | None = None, headers: dict | None = None,
         timeout: float = 10.0) -> tuple[int, str, dict]:
    """(status, text, headers) of one request; HTTP errors are answers, not exceptions."""
    req = urllib.request.Request(url, data=body.encode() if body is not None else None,
                                 headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read().decode(), dict(resp.headers)
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode(), dict(err.headers)
