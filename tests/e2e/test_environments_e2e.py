"""Two environments end to end: the HTTP app of `busbot serve` over two redis-servers with
the same stream names, driven by signed Slack requests, the admin API and /metrics."""
from __future__ import annotations

import json
import threading
import time

import pytest

from bot.environments import Environments
from bot.jobs import store
from bot.slack.app import build_app
from bot.web.app import create_app
from bot.web.server import HttpServer
from bot.web.slack import SlackGate
from tests.e2e.blocks import buttons, valid_message
from tests.e2e.conftest import slack_settings
from tests.e2e.slack_stub import CHANNEL, SECRET, action_body, command_body, http, signed_headers
from tests.environments_helpers import base_settings, environ_of, open_environments, servers  # noqa: F401
from tests.jobs_helpers import seed_dlq

TOKEN = "tok-env-e2e"


class EnvBot:
    """The serving app with one runtime per environment (as `busbot serve` builds it)."""

    def __init__(self, envs: Environments, settings):
        self.envs = envs
        rt = envs.default_runtime()
        gate = SlackGate(SECRET, build_app(settings, rt))
        self.server = HttpServer(create_app(rt.bus, gate, rt=rt), host="127.0.0.1", port=0)
        self.url = f"http://127.0.0.1:{self.server.port}"
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.stop()
        self.thread.join(15)
        self.envs.stop()

    def post_signed(self, body: str) -> int:
        status, text, _ = http("POST", self.url + "/slack/events", body, signed_headers(body))
        assert (status, text) == (200, "")
        return status


@pytest.fixture
def bot(servers, stub):  # noqa: F811
    base = base_settings(bus_api_tokens=f"ops:{TOKEN}", bus_operators="U0ALICE,U0BOB,api:ops")
    envs = open_environments(base, environ_of(servers, BUS_CHANNEL_ENVIRONMENTS="C0STAGE=staging"), jobs=True)
    seed_dlq(envs.get("prod").bus.r, "hyvve:dlq", 3)
    seed_dlq(envs.get("staging").bus.r, "hyvve:dlq", 7)
    b = EnvBot(envs, slack_settings(base, stub))
    yield b
    b.stop()


def ask(bot, stub, text: str, name: str, channel: str = CHANNEL, user: str = "U0ALICE") -> dict:
    body = command_body(text, stub.url + f"response/{name}", user).replace(f"channel_id={CHANNEL}",
                                                                          f"channel_id={channel}")
    bot.post_signed(body)
    msg = stub.wait_for(f"/response/{name}")[0]
    valid_message(msg)
    return msg


def click(bot, stub, action_id: str, value: str, name: str, user: str) -> dict:
    bot.post_signed(action_body(action_id, value, stub.url + f"response/{name}", user))
    msg = stub.wait_for(f"/response/{name}")[0]
    valid_message(msg)
    return msg


def first_line(msg: dict) -> str:
    return msg["blocks"][0]["elements"][0]["text"]


def test_commands_pick_their_environment_through_slack(bot, stub):
    named = ask(bot, stub, "@staging dlq", "a")
    assert "7 entries" in named["text"] and first_line(named) == ":large_blue_circle: *staging*"
    option = ask(bot, stub, "dlq env=staging", "b")
    assert "7 entries" in option["text"]
    default = ask(bot, stub, "dlq", "c")
    assert "3 entries" in default["text"] and first_line(default) == ":large_blue_circle: *prod*"
    by_channel = ask(bot, stub, "dlq", "d", channel="C0STAGE")
    assert "7 entries" in by_channel["text"]
    unknown = ask(bot, stub, "@qa dlq", "e")
    assert "There is no environment named 'qa'; this busbot knows prod, staging." in unknown["text"]


def test_an_approval_in_prod_never_touches_staging_through_slack(bot, stub):
    preview = ask(bot, stub, "@prod reprocess all", "p")
    bound = buttons(preview)["guard_confirm"]
    assert bound.startswith("@prod ")
    token = bound.removeprefix("@prod ")
    crossed = click(bot, stub, "guard_confirm", f"@staging {token}", "x", "U0ALICE")
    assert "nothing ran" in crossed["text"]
    asked = click(bot, stub, "guard_confirm", bound, "c", "U0ALICE")
    assert "Approval needed" in asked["text"] and first_line(asked) == ":large_blue_circle: *prod*"
    done = click(bot, stub, "guard_approve", buttons(asked)["guard_approve"], "a", "U0BOB")
    job_id = done["text"].split()[2] if done["text"].startswith("[") else done["text"].split()[1]
    prod, staging = bot.envs.get("prod").bus, bot.envs.get("staging").bus
    deadline = time.monotonic() + 20
    while store.get(prod, job_id).status == "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert store.get(prod, job_id).status == "COMPLETED"
    assert (prod.r.xlen("hyvve:dlq"), staging.r.xlen("hyvve:dlq")) == (0, 7)
    assert store.get(staging, job_id) is None


def test_metrics_health_and_the_api_per_environment(bot):
    status, text, _ = http("GET", bot.url + "/metrics")
    assert status == 200
    assert 'redis_stream_length{env="prod",stream="hyvve:dlq"} 3.0' in text
    assert 'redis_stream_length{env="staging",stream="hyvve:dlq"} 7.0' in text
    status, body, _ = http("GET", bot.url + "/events/health")
    assert status == 200 and json.loads(body)["dlqLength"] == 3  # the default environment
    auth = {"Authorization": f"Bearer {TOKEN}"}
    counts = {}
    for query in ("", "?env=prod", "?env=staging"):
        status, body, _ = http("GET", bot.url + "/events/dlq" + query, None, auth)
        assert status == 200, body
        counts[query] = len(json.loads(body)["entries"])
    assert counts == {"": 3, "?env=prod": 3, "?env=staging": 7}
    status, body, _ = http("GET", bot.url + "/events/dlq?env=qa", None, auth)
    assert status == 404 and "There is no environment named 'qa'" in json.loads(body)["error"]


def test_busbot_serve_runs_every_environment(servers, stub):  # noqa: F811
    """The process as deployed: BUS_ENVIRONMENTS in, per-environment alerts out (staging's
    lower threshold fires there only, its message names staging first), commands in either
    environment, no warning about the valid override, a clean stop."""
    import redis as redis_py

    from tests.alerts.helpers import fill_dlq
    from tests.e2e.test_serve_process import busbot, stderr_of, wait_ready
    from tests.redis_server import free_port

    prod, staging = servers
    for server in servers:
        redis_py.Redis.from_url(server.url).flushdb()
    fill_dlq(redis_py.Redis.from_url(prod.url, decode_responses=True), "hyvve:dlq", 20)
    fill_dlq(redis_py.Redis.from_url(staging.url, decode_responses=True), "hyvve:dlq", 20)
    port = free_port()
    proc = busbot("serve", PORT=str(port), SLACK_SIGNING_SECRET=SECRET, SLACK_BOT_TOKEN="xoxb-e2e",
                  SLACK_API_URL=stub.api_url, BUS_ALERT_CHANNEL="C0ALERTS", BUS_CHECK_INTERVAL="1",
                  BUS_ALERT_FOR="0", BUS_ENVIRONMENTS=f"prod={prod.url},staging={staging.url}",
                  BUS_STAGING_DLQ_WARN="5", BUS_PROTECTED_ENVIRONMENTS="prod")
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, proc)
        alert = stub.wait_for("/api/chat.postMessage", timeout=20)[0]
        assert alert["channel"] == "C0ALERTS" and alert["text"].startswith("[staging] ")
        blocks = json.loads(alert["blocks"]) if isinstance(alert["blocks"], str) else alert["blocks"]
        assert blocks[0]["elements"][0]["text"] == ":large_blue_circle: *staging*"
        body = command_body("@prod dlq", stub.url + "response/p")
        assert http("POST", url + "/slack/events", body, signed_headers(body))[0] == 200
        answer = stub.wait_for("/response/p", timeout=20)[0]
        assert answer["text"].startswith("[PROD · protected] ") and "20 entries" in answer["text"]
        metrics = http("GET", url + "/metrics")[1]
        assert 'busbot_redis_up{env="prod"} 1.0' in metrics and 'busbot_redis_up{env="staging"} 1.0' in metrics
        posts = [p for p in stub.to("/api/chat.postMessage") if p.get("channel") == "C0ALERTS"
                 and not p.get("thread_ts")]
        assert len(posts) == 1  # prod's 20 entries are below its threshold (100)
    finally:
        proc.terminate()
        assert proc.wait(15) == 0
    assert "BUS_STAGING_DLQ_WARN" not in stderr_of(proc)
