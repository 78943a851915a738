"""A Redis password never leaves busbot, whatever form the URL takes: command replies, alert
posts, /events/health, /metrics, log lines, settings errors and CLI errors."""
from __future__ import annotations

import importlib
import logging

import pytest

from bot.alerts.outage import RedisOutage
from bot.bus import Bus
from bot.cli import main
from bot.connection import open_bus
from bot.metrics import exposition, metrics_registry
from bot.redact import install_log_redaction, redact_text, redact_url
from bot.render import render_reply
from bot.settings import Settings, SettingsError, load_settings
from commands import router
from tests.alerts.helpers import FakeTransport
from tests.redis_server import free_port
from tests.test_authorization import runtime

SECRET = "Zq7wK9xPq"  # every password below contains it; it must appear nowhere


def dead_urls() -> list[str]:
    port = free_port()
    return [f"redis://:{SECRET}@127.0.0.1:{port}/0",
            f"redis://busbot:{SECRET}@127.0.0.1:{port}/0",
            f"redis://127.0.0.1:{port}/0?password={SECRET}",
            f"redis://:p@{SECRET}@127.0.0.1:{port}/0",  # "@" inside the password
            f"redis://:{SECRET[:4]}@{SECRET[4:]}@127.0.0.1:{port}/0"]  # each half is distinctive


def leaks(text: str) -> bool:
    return SECRET in text or SECRET[4:] in text or SECRET[:4] + "@" in text


@pytest.mark.parametrize("url", [
    f"redis://:{SECRET}@h:6379/0", f"redis://u:{SECRET}@h/0", f"redis://h:1/0?password={SECRET}&db=2",
    f"redis://:p@ss{SECRET}@h:1/0", f" redis://:{SECRET}@h", f"http://u:{SECRET}@h",
    f"rediss://h/0?db=1&password={SECRET}", f":{SECRET}@h:6379"])
def test_redact_url_masks_every_form(url):
    shown = redact_url(url)
    assert SECRET not in shown and "***" in shown
    assert SECRET not in redact_text(f"Redis at {url} failed")


def test_redact_url_keeps_what_helps():
    assert redact_url("redis://busbot:pw@redis.internal:6380/2") == "redis://busbot:***@redis.internal:6380/2"
    assert redact_url("redis://h:1/0?password=x&db=2") == "redis://h:1/0?password=***&db=2"
    assert redact_url("redis://h:6379/0") == "redis://h:6379/0"


@pytest.mark.parametrize("url", dead_urls())
def test_no_output_path_shows_the_password(url, settings, caplog):
    install_log_redaction()
    bus = open_bus(settings, url)
    texts: list[str] = [bus.where, repr(bus)]
    with caplog.at_level(logging.DEBUG):
        for command in ("health", "dlq top", "redis"):
            reply = router.run(command, runtime(bus), "U1")
            message = render_reply(reply)
            texts += [reply.text, str(reply.context), str(message)]
        logging.getLogger("busbot.test").warning("connecting to %s", url)  # any log line
        try:
            raise ValueError(f"cannot use {url}")
        except ValueError:
            logging.getLogger("busbot.test").exception("trace")
    texts.append(caplog.text)
    texts += [r.getMessage() for r in caplog.records]

    outage = RedisOutage(bus.settings.model_copy(update={"bus_alert_channel": "C_ALERTS", "bus_alert_for": 0}),
                         bus.where)
    transport = FakeTransport()
    outage.observe(False, 1_000)
    outage.observe(False, 2_000)
    outage.deliver(transport, 2_000)
    posts = [c["message"] for c in transport.calls]
    assert posts, "the outage alert was not posted"
    texts += [str(p) for p in posts]

    for module in ("bot.slack.web", "bot.web.probes"):
        try:
            web = importlib.import_module(module)
        except ImportError:
            continue
        status, body = web.health_document(bus)
        assert status == 503
        texts.append(str(body))
    texts.append(exposition(metrics_registry(bus)).decode())

    for text in texts:
        assert not leaks(text), text


@pytest.mark.parametrize("value", [f" redis://:{SECRET}@h:1/0x", f"http://u:{SECRET}@h", f"redis//:{SECRET}@h",
                                   f"h:1?password={SECRET}"])
def test_a_bad_setting_is_named_without_its_secret(value):
    if value.startswith(" redis://"):
        assert load_settings(redis_url=value).redis_url == value.strip()  # a stray space is fine
        return
    with pytest.raises(SettingsError) as caught:
        load_settings(redis_url=value)
    assert "REDIS_URL" in str(caught.value) and not leaks(str(caught.value))
    assert SECRET not in repr(Settings(_env_file=None, redis_url=f"redis://:{SECRET}@h"))


@pytest.mark.parametrize("how", ["env", "option"])
@pytest.mark.parametrize("value", [f"http://u:{SECRET}@h", f"redis:/:{SECRET}@h", f"redis://:p@{SECRET}@h:notaport/0",
                                   f"redis://127.0.0.1:{free_port()}/0?password={SECRET}"])
def test_cli_errors_never_show_the_secret(how, value, capsys, monkeypatch):
    monkeypatch.setattr("bot.console.cli._log_to_file", lambda: None)
    if how == "env":
        monkeypatch.setenv("REDIS_URL", value)
        code = main(["console", "-c", "health"])
    else:
        monkeypatch.delenv("REDIS_URL", raising=False)
        code = main(["console", "--redis", value, "-c", "health"])
    out = capsys.readouterr()
    assert code != 0
    assert out.err.strip() and not leaks(out.out + out.err)
    assert "Traceback" not in out.out + out.err


def test_a_plain_bus_where_is_kept(settings):
    assert Bus(None, settings, where="embedded demo Redis").where == "embedded demo Redis"  # type: ignore[arg-type]


def test_a_list_of_urls_in_a_setting_is_masked_entry_by_entry():
    from bot.redact import redact_value

    shown = redact_value(f"prod=redis://:{SECRET}@h1,stage=redis://u:a,{SECRET}@h2/0?password={SECRET}")
    assert shown == "prod=redis://***@h1,stage=redis://u:***@h2/0?password=***"


def test_a_bad_secret_setting_is_named_without_its_value():
    with pytest.raises(SettingsError) as caught:
        load_settings(slack_bot_token=8675309)
    assert "SLACK_BOT_TOKEN" in str(caught.value) and "8675309" not in str(caught.value)
