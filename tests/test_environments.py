"""Several environments in one process: two real redis-servers with the SAME stream names,
one runtime each. A command runs where it says (`@name`, `env=name`, the channel's default),
buttons and approvals never cross to the other environment, a protected environment asks a
second operator for everything destructive, alerts and metrics are per environment."""
from __future__ import annotations

import pytest

from bot.actions import requests
from bot.actions.runtime import ActionHooks
from bot.alerts.runner import AlertRunner
from bot.console.render_text import render_reply_text
from bot.environments import BadgedTransport, Environments, badge, plan, split_target
from bot.jobs import store
from bot.jobs.runner import JobRunner
from bot.metrics import exposition, metrics_registry
from bot.render import render_reply
from bot.settings import SettingsError, unknown_bus_variables
from commands import router
from tests.alerts.helpers import FakeTransport, fill_dlq, tick
from tests.e2e.blocks import buttons, valid_message
from tests.environments_helpers import base_settings, environ_of, open_environments, servers  # noqa: F401
from tests.jobs_helpers import seed_dlq


@pytest.fixture
def envs(servers) -> Environments:  # noqa: F811
    made = open_environments(base_settings(), environ_of(servers, BUS_CHANNEL_ENVIRONMENTS="C0STAGE=staging"))
    prod, staging = made.get("prod"), made.get("staging")
    seed_dlq(prod.bus.r, prod.bus.keys.dlq, 3)
    seed_dlq(staging.bus.r, staging.bus.keys.dlq, 7)
    return made


def dlq_len(rt) -> int:
    return rt.bus.r.xlen(rt.bus.keys.dlq)


# -- choosing the environment ---------------------------------------------------------------

@pytest.mark.parametrize("text, channel, want", [
    ("dlq", None, "3 entries"),  # the first environment listed is the default
    ("@staging dlq", None, "7 entries"),
    ("dlq env=staging", None, "7 entries"),
    ("env=staging dlq", None, "7 entries"),
    ("dlq", "C0STAGE", "7 entries"),  # the channel's default
    ("@prod dlq", "C0STAGE", "3 entries"),  # named beats the channel's default
])
def test_a_command_runs_in_the_environment_it_names(envs, text, channel, want):
    reply = router.run(text, envs.default_runtime(), "U0ALICE", channel)
    assert want in reply.text
    message = render_reply(reply)
    valid_message(message)
    name = "staging" if want == "7 entries" else "prod"
    assert message["blocks"][0]["elements"][0]["text"] == badge(name, False)["slack"]  # its first line
    assert message["text"].startswith(f"[{name}] ")


def test_an_unknown_environment_gets_one_sentence_listing_the_known_ones(envs):
    reply = router.run("@qa dlq", envs.default_runtime(), "U0ALICE")
    assert reply.template == "error"
    assert reply.text == "There is no environment named 'qa'; this busbot knows prod, staging."
    assert "env_badge" not in reply.context


def test_the_console_shows_the_environment_first(envs):
    screen = render_reply_text(router.run("@staging dlq", envs.default_runtime(), "U0ALICE"), width=100)
    assert screen.text.splitlines()[0] == "[staging]"
    assert all(c.value.startswith("@staging ") for c in screen.choices)


def test_one_environment_shows_no_environment_line(servers):  # noqa: F811
    prod, _ = servers
    one = open_environments(base_settings(redis_url=prod.url), {})
    reply = router.run("dlq", one.default_runtime(), "U0ALICE")
    assert "env_badge" not in reply.context and one.names == ["default"]
    assert one.default_runtime().bus.mode == "standalone"
    assert not any(v.startswith("@") for v in buttons(render_reply(reply)).values())


def test_split_target():
    assert split_target("@eu-west dlq list 5") == ("eu-west", "dlq list 5")
    assert split_target("dlq list env=prod type=a.b") == ("prod", "dlq list type=a.b")
    assert split_target("dlq list error=x") == (None, "dlq list error=x")
    assert split_target("@staging") == ("staging", "")


# -- buttons and approvals stay in their environment -----------------------------------------

def button_values(node) -> list[tuple[str, str]]:
    """(action_id, value) of every button anywhere in a message (accessories included)."""
    if isinstance(node, list):
        return [pair for item in node for pair in button_values(item)]
    if not isinstance(node, dict):
        return []
    own = [(node["action_id"], node["value"])] if node.get("type") == "button" and "value" in node else []
    return own + [pair for v in node.values() for pair in button_values(v)]


def test_every_button_of_a_reply_is_bound_to_its_environment(envs):
    reply = router.run("@staging dlq list", envs.default_runtime(), "U0ALICE")
    values = button_values(render_reply(reply)["blocks"])
    assert values and all(v.startswith("@staging ") for _, v in values)
    assert reply.context["share_value"] == "@staging dlq list"
    # clicking "Show" (in the default environment's channel) shows staging's entry
    show = next(v for a, v in values if a == "bus_run" and "dlq show" in v)
    again = router.run_action("bus_run", show, envs.default_runtime(), "U0ALICE", "C0E2E")
    assert again.context["env_badge"]["name"] == "staging" and again.template != "error"
    assert router.run_action("bus_run", show.removeprefix("@staging "), envs.default_runtime(), "U0ALICE",
                             "C0E2E").context["env_badge"]["name"] == "prod"


def test_a_long_command_still_fits_with_its_environment(envs):
    text = "dlq list error=" + "x" * 1985  # fits alone (2,000), not with "@staging " before it
    reply = router.run(f"@staging {text}", envs.default_runtime(), "U0ALICE")
    share = reply.context["share_value"]
    assert share.startswith("@staging ref:") and len(share) <= 2000
    again = router.run_action("bus_share", share, envs.default_runtime(), "U0ALICE", "C0E2E")
    assert again.command == text and again.context["env_badge"]["name"] == "staging"


def test_an_approval_made_in_prod_never_touches_staging(envs):
    prod, staging = envs.get("prod"), envs.get("staging")
    preview = router.run("reprocess all", prod, "U0ALICE")
    bound = preview.context["buttons"][0]["value"]
    assert bound.startswith("@prod ")
    token = bound.removeprefix("@prod ")
    # the same token clicked as staging: looked up in staging's Redis only, refused there
    refused = router.run_action("guard_confirm", f"@staging {token}", prod, "U0ALICE", "C0E2E")
    assert "nothing ran" in refused.text
    assert requests.get(prod.bus, token).state == "PREVIEWED"
    assert requests.get(staging.bus, token) is None and dlq_len(staging) == 7
    # the prod button goes through prod, and a second operator's approval moves prod's entries only
    # whichever runtime the adapter holds, the bound value decides
    asked = router.run_action("guard_confirm", bound, staging, "U0ALICE", "C0E2E")
    assert "Approval needed" in asked.text and asked.context["env_badge"]["name"] == "prod"
    approve = buttons(render_reply(asked))["guard_approve"]
    assert approve == bound
    job = router.run_action("guard_approve", f"@staging {token}", prod, "U0BOB", "C0E2E")
    assert "nothing ran" in job.text and requests.get(prod.bus, token).state == "AWAITING"
    done = router.run_action("guard_approve", approve, prod, "U0BOB", "C0E2E")
    assert done.context["env_badge"]["name"] == "prod"
    for rt in (prod, staging):  # each environment's job runner, as `busbot serve` runs them
        JobRunner(rt.bus, hooks=ActionHooks(rt.notifier)).tick()
    assert (dlq_len(prod), dlq_len(staging)) == (0, 7)
    assert store.get(prod.bus, requests.get(prod.bus, token).job_id).status == "COMPLETED"


def test_a_request_made_in_another_environment_on_the_same_redis_is_refused(servers):  # noqa: F811
    prod, _ = servers
    environ = {"BUS_ENVIRONMENTS": f"prod={prod.url},staging={prod.url}",  # one Redis, keys shared
               "BUS_STAGING_DLQ_STREAM": "staging:dlq", "BUS_STAGING_EVENTS_STREAM": "staging:events"}
    envs = open_environments(base_settings(), environ)
    p, s = envs.get("prod"), envs.get("staging")
    seed_dlq(p.bus.r, p.bus.keys.dlq, 3)
    seed_dlq(s.bus.r, s.bus.keys.dlq, 4)
    token = router.run("reprocess all", p, "U0ALICE").context["buttons"][0]["value"].removeprefix("@prod ")
    refused = router.run_action("guard_confirm", f"@staging {token}", p, "U0ALICE", "C0E2E")
    assert refused.text.startswith("This request was made in the environment 'prod', not 'staging', so nothing ran.")
    assert requests.get(p.bus, token).state == "PREVIEWED" and requests.get(p.bus, token).env == "prod"
    assert s.bus.r.xlen("staging:dlq") == 4


def test_a_refused_click_names_its_environment_too(envs):
    reply = router.run_action("guard_confirm", "@staging abc", envs.default_runtime(), "U0EVE", "C0E2E")
    assert "Only busbot operators" in reply.text and reply.context["env_badge"]["name"] == "staging"


def test_a_button_of_an_environment_no_longer_served_runs_nothing(envs):
    reply = router.run_action("guard_confirm", "@qa abc", envs.default_runtime(), "U0ALICE", "C0E2E")
    assert reply.text.startswith("This button was made for the environment 'qa'")


# -- protected environments ------------------------------------------------------------------

def test_a_protected_environment_asks_a_second_operator_whatever_approval_required_says(servers):  # noqa: F811
    environ = environ_of(servers, BUS_PROTECTED_ENVIRONMENTS="prod")
    envs = open_environments(base_settings(bus_approval_required=""), environ)
    prod, staging = envs.get("prod"), envs.get("staging")
    for rt in (prod, staging):
        seed_dlq(rt.bus.r, rt.bus.keys.dlq, 3)
    results = {}
    for rt in (prod, staging):
        preview = router.run(f"@{rt.environment} dlq delete 1000-0", envs.default_runtime(), "U0ALICE")
        results[rt.environment] = router.run_action("guard_confirm", preview.context["buttons"][0]["value"],
                                                    rt, "U0ALICE", "C0E2E")
    assert "Approval needed" in results["prod"].text and dlq_len(prod) == 3
    assert "Approval needed" not in results["staging"].text and dlq_len(staging) == 2
    first = render_reply(results["prod"])["blocks"][0]["elements"][0]["text"]
    assert first == ":red_circle: *PROD* (protected)"


# -- settings --------------------------------------------------------------------------------

def test_per_environment_overrides_and_their_mistakes(servers):  # noqa: F811
    envs, _ = plan(base_settings(), environ_of(servers, BUS_STAGING_DLQ_WARN="5", BUS_STAGING_DLQ_CRIT="9"))
    got = {e.name: (e.settings.bus_dlq_warn, e.settings.bus_dlq_crit, e.settings.bus_environment_name) for e in envs}
    assert got == {"prod": (100, 500, "prod"), "staging": (5, 9, "staging")}
    with pytest.raises(SettingsError, match="^BUS_PROD_DLQ_WARN: .*'lots'"):
        plan(base_settings(), environ_of(servers, BUS_PROD_DLQ_WARN="lots"))
    with pytest.raises(SettingsError, match="^BUS_ENVIRONMENTS: "):
        plan(base_settings(), {"BUS_ENVIRONMENTS": "prod=http://x"})
    with pytest.raises(SettingsError, match="^BUS_CHANNEL_ENVIRONMENTS: 'qa'"):
        plan(base_settings(), environ_of(servers, BUS_CHANNEL_ENVIRONMENTS="C1=qa"))
    with pytest.raises(SettingsError, match="^BUS_PROTECTED_ENVIRONMENTS: 'qa'"):
        plan(base_settings(), environ_of(servers, BUS_PROTECTED_ENVIRONMENTS="qa"))


def test_unknown_variable_warnings_skip_valid_overrides(servers):  # noqa: F811
    environ = environ_of(servers, BUS_PROD_DLQ_WARN="5", BUS_PROD_DLQ_WRN="5", BUS_PROTECTED_ENVIRONMENTS="prod")
    lines = unknown_bus_variables(environ)
    assert [line.split()[0] for line in lines] == ["BUS_PROD_DLQ_WRN"]
    one = {"REDIS_URL": "redis://x", "BUS_ENVIRONMENT_NAME": "eu", "BUS_EU_DLQ_WARN": "5", "BUS_PROD_DLQ_WARN": "5"}
    assert [line.split()[0] for line in unknown_bus_variables(one)] == ["BUS_PROD_DLQ_WARN"]
    assert plan(base_settings(bus_environment_name="eu"), one)[0][0].settings.bus_dlq_warn == 5


def test_a_threshold_override_fires_in_its_environment_only(servers):  # noqa: F811
    environ = environ_of(servers, BUS_STAGING_DLQ_WARN="5", BUS_STAGING_DLQ_CRIT="500")
    envs = open_environments(base_settings(bus_alert_channel="C0ALERTS", bus_alert_for=0), environ)
    slack = FakeTransport()
    runners = [AlertRunner(rt.bus, BadgedTransport(slack, badge(rt.environment, rt.protected)))
               for rt in envs.runtimes.values()]
    for rt in envs.runtimes.values():
        fill_dlq(rt.bus.r, rt.bus.keys.dlq, 20)  # the same 20 entries in each
    for _ in range(3):
        for runner in runners:
            tick(runner)
    posts = [c for c in slack.calls if c["op"] == "post" and not c["thread_ts"]]
    assert len(posts) == 1  # posted once, by staging only
    message = posts[0]["message"]
    valid_message(message)
    assert message["blocks"][0]["elements"][0]["text"] == ":large_blue_circle: *staging*"
    assert "[staging]" in message["text"] and "DLQ" in message["text"]
    assert all(v.startswith("@staging ") for v in buttons(message).values())


# -- metrics ---------------------------------------------------------------------------------

def test_metrics_label_every_sample_with_its_environment(envs):
    prod, staging = envs.get("prod"), envs.get("staging")
    text = exposition(metrics_registry(prod.bus, staging.bus)).decode()
    assert 'redis_stream_length{env="prod",stream="hyvve:dlq"} 3.0' in text
    assert 'redis_stream_length{env="staging",stream="hyvve:dlq"} 7.0' in text
    assert 'busbot_redis_up{env="staging"} 1.0' in text
    assert text.count("# TYPE redis_stream_length gauge") == 1
    samples = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert samples and all('env="' in line for line in samples)
    one = exposition(metrics_registry(prod.bus)).decode()
    assert 'redis_stream_length{stream="hyvve:dlq"} 3.0' in one and "env=" not in one


# -- the console -----------------------------------------------------------------------------

def test_the_console_takes_env_and_at_name(servers):  # noqa: F811
    import os
    import subprocess
    import sys
    from pathlib import Path

    envs = open_environments(base_settings(), environ_of(servers))
    seed_dlq(envs.get("prod").bus.r, "hyvve:dlq", 3)
    seed_dlq(envs.get("staging").bus.r, "hyvve:dlq", 7)
    environ = {**{k: v for k, v in os.environ.items() if k != "REDIS_URL" and not k.startswith("BUS_")},
               **environ_of(servers)}

    def console(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "bot", "console", *args], cwd=Path(__file__).parent.parent,
                              env=environ, capture_output=True, text=True, timeout=60)

    default, chosen = console("-c", "dlq"), console("--env", "staging", "-c", "dlq")
    named, unknown = console("--env", "staging", "-c", "@prod dlq"), console("--env", "qa", "-c", "dlq")

    def entries(out: str) -> str:
        return next(line.split()[-1] for line in out.splitlines() if line.startswith("Entries:"))

    assert default.stdout.splitlines()[0] == "[prod]" and entries(default.stdout) == "3"
    assert chosen.stdout.splitlines()[0] == "[staging]" and entries(chosen.stdout) == "7"
    assert named.stdout.splitlines()[0] == "[prod]" and entries(named.stdout) == "3"
    assert unknown.returncode == 2
    assert "There is no environment named 'qa'; this busbot knows prod, staging." in unknown.stderr


def test_a_job_card_from_an_environment_names_it_and_binds_its_buttons(servers):  # noqa: F811
    from bot.alerts.outbox import OutboxNotifier

    envs = open_environments(base_settings(bus_approval_required=""), environ_of(servers))
    staging = envs.get("staging")
    staging.notifier = OutboxNotifier(staging.bus, "C0ACTIONS")  # as `busbot serve` posts progress
    seed_dlq(staging.bus.r, "hyvve:dlq", 7)
    preview = router.run("@staging reprocess all", envs.default_runtime(), "U0ALICE")
    router.run_action("guard_confirm", preview.context["buttons"][0]["value"], envs.default_runtime(),
                      "U0ALICE", "C0E2E")
    JobRunner(staging.bus, hooks=ActionHooks(staging.notifier)).tick()
    slack = FakeTransport()
    AlertRunner(staging.bus, BadgedTransport(slack, badge("staging", False))).deliver()
    cards = [c["message"] for c in slack.calls if c["channel"] == "C0ACTIONS"]
    assert cards
    for card in cards:
        valid_message(card)
        assert card["blocks"][0]["elements"][0]["text"] == ":large_blue_circle: *staging*"
        assert card["text"].startswith("[staging] ")
        assert all(v.startswith("@staging ") for v in buttons(card).values())


def test_a_form_opened_from_staging_submits_to_staging(envs):
    import json

    from bot.slack import modals
    from bot.slack.app import _opened_form

    class Client:  # what the Slack adapter asks of Slack: views.open
        views: list[dict] = []

        def views_open(self, trigger_id: str, view: dict) -> None:
            self.views.append(view)

    asked = router.run("@staging reprocess", envs.default_runtime(), "U0ALICE")  # no arguments: the form
    client = Client()
    assert _opened_form(asked, {"trigger_id": "1.2.3"}, client, "C0E2E")  # type: ignore[arg-type]
    view = client.views[0]
    assert json.loads(view["private_metadata"])["env"] == "staging"
    preview = modals.submitted("reprocess", view, {}, envs.default_runtime(), "U0ALICE")
    assert preview.context["env_badge"]["name"] == "staging" and "7 of 7" in preview.text


def test_roles_can_differ_per_environment(servers):  # noqa: F811
    envs = open_environments(base_settings(), environ_of(servers, BUS_PROD_OPERATORS="U0BOB"))
    for rt in envs.runtimes.values():
        seed_dlq(rt.bus.r, rt.bus.keys.dlq, 3)
    prod = router.run("@prod dlq delete 1000-0", envs.default_runtime(), "U0ALICE")
    staging = router.run("@staging dlq delete 1000-0", envs.default_runtime(), "U0ALICE")
    assert "Only busbot operators" in prod.text and prod.context["env_badge"]["name"] == "prod"
    assert staging.context["buttons"][0]["action_id"] == "guard_confirm"
