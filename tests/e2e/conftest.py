"""End-to-end fixtures: the Slack stand-in, and the real HTTP app under waitress on a free
port, wired to it (`SLACK_API_URL`) and to the test's Redis (fakeredis or redis-server)."""
from __future__ import annotations

import threading

import pytest
from pydantic import SecretStr

from bot.bus import Bus
from bot.runtime import build_runtime
from bot.settings import Settings
from bot.slack.app import build_app, web_client
from bot.slack.groups import RedisMemory, SlackGroups
from bot.web.app import create_app
from bot.web.server import THREADS, HttpServer
from bot.web.slack import SlackGate
from tests.e2e.slack_stub import SECRET, SlackStub, command_body, http, signed_headers


class BotServer:
    """`busbot serve`'s HTTP app (bot.web.app) under its server (bot.web.server) on
    127.0.0.1:<free port>, in a thread; with `jobs`, its runtime runs a job runner in the
    background, as `busbot serve` does."""

    def __init__(self, bus: Bus, settings: Settings, pool=None, jobs: bool = False, threads: int = THREADS):
        groups = SlackGroups(web_client(settings), memory=RedisMemory(bus))
        self.rt = build_runtime(bus, start_jobs=jobs, poll_s=0.05, groups=groups)
        gate = SlackGate(SECRET, build_app(settings, self.rt, pool))
        self.server = HttpServer(create_app(bus, gate, rt=self.rt), host="127.0.0.1", port=0, threads=threads)
        self.url = f"http://127.0.0.1:{self.server.port}"
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> BotServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.stop()
        self.thread.join(15)
        self.rt.stop()
        if self.rt.jobs is not None:
            self.rt.jobs.join(10)

    def post_signed(self, body: str, **sign) -> tuple[int, str]:
        status, text, _ = http("POST", self.url + "/slack/events", body, signed_headers(body, **sign))
        return status, text

    def get(self, path: str) -> tuple[int, str, dict]:
        return http("GET", self.url + path)


def slack_settings(settings: Settings, stub: SlackStub) -> Settings:
    return settings.model_copy(update={"slack_bot_token": SecretStr("xoxb-e2e"),
                                       "slack_signing_secret": SecretStr(SECRET),
                                       "slack_api_url": stub.api_url})


@pytest.fixture
def stub():
    s = SlackStub().start()
    yield s
    s.stop()


@pytest.fixture
def start_bot(stub, settings):
    """Start a bot over a given Bus; stopped after the test."""
    servers: list[BotServer] = []

    def start(bus: Bus, pool=None, jobs: bool = False) -> BotServer:
        servers.append(BotServer(bus, slack_settings(settings, stub), pool, jobs).start())
        return servers[-1]
    yield start
    for s in servers:
        s.stop()


@pytest.fixture
def bot(start_bot, bus) -> BotServer:
    return start_bot(bus)


@pytest.fixture
def ask(bot, stub):
    """`ask("health")` sends a signed `/bus health` and returns what the bot sent to response_url."""
    counter = iter(range(1_000_000))

    def ask(text: str, user: str = "U0ALICE") -> dict:
        path = f"/response/cmd{next(counter)}"
        status, body = bot.post_signed(command_body(text, stub.url + path.lstrip("/"), user))
        assert (status, body) == (200, ""), "the ack must be an empty 200"
        return stub.wait_for(path)[0]
    return ask
