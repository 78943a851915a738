"""manifest.yml points Slack at the routes `busbot serve` actually serves."""
from __future__ import annotations

import re
from pathlib import Path

from bot.web.slack import SLACK_PATH

MANIFEST = (Path(__file__).resolve().parents[2] / "manifest.yml").read_text()


def test_command_and_interactivity_use_the_served_path():
    assert re.search(r"^\s+- command: /bus$", MANIFEST, re.M)
    urls = re.findall(r"^\s+(?:url|request_url): (\S+)", MANIFEST, re.M)
    assert urls == [f"https://YOUR-HOST{SLACK_PATH}"] * 3  # the command, events, interactivity
    assert re.search(r"^\s+is_enabled: true", MANIFEST, re.M)
    assert re.search(r"^\s+socket_mode_enabled: false", MANIFEST, re.M)


def test_bot_scopes():
    scopes = re.findall(r"^\s+- ([a-z:.]+)\s+#", MANIFEST, re.M)
    assert scopes == ["commands", "chat:write", "chat:write.public", "usergroups:read"]


def test_the_app_home_is_enabled_and_its_event_subscribed():
    assert re.search(r"^\s+home_tab_enabled: true", MANIFEST, re.M)
    events = MANIFEST.split("bot_events:", 1)[1]
    assert re.match(r"\s+- app_home_opened\b", events)
