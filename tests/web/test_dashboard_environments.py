"""The dashboard with two environments (same stream names, two redis-servers): `?env=`
picks one, its page says which, and its links and forms stay in it, so Delete Selected on
staging's page previews staging's entries and nothing in prod."""
from __future__ import annotations

import re

from bot.actions import requests
from bot.web.app import create_app
from tests.environments_helpers import environ_of, open_environments, servers  # noqa: F401
from tests.jobs_helpers import seed_dlq
from tests.web.conftest import csrf_of, dash_settings
from tests.web.test_dashboard_http import signed_in


def test_the_dashboard_stays_in_the_environment_it_shows(servers):  # noqa: F811
    envs = open_environments(dash_settings(), environ_of(servers))
    prod, staging = envs.get("prod"), envs.get("staging")
    seed_dlq(prod.bus.r, "hyvve:dlq", 3)
    seed_dlq(staging.bus.r, "hyvve:dlq", 7)
    app = create_app(prod.bus, None, rt=prod)
    c = signed_in(app, "alice")
    shown = {env: c.get(f"/admin/events/dlq{q}").text for env, q in (("prod", ""), ("staging", "?env=staging"))}
    assert shown["prod"].count('name="ids"') == 3 and "environment <strong>prod</strong>" in shown["prod"]
    assert shown["staging"].count('name="ids"') == 7 and "environment <strong>staging</strong>" in shown["staging"]
    action = re.search(r'<form method="post" action="([^"]*/dlq/selected[^"]*)"', shown["staging"]).group(1)
    assert action == "/admin/events/dlq/selected?env=staging"
    resp = c.post(action, data={"csrf_token": csrf_of(shown["staging"]), "action": "delete", "ids": ["1005-0"]})
    assert resp.status_code == 303 and resp.headers["Location"].endswith("?env=staging")
    token = resp.headers["Location"].split("/requests/")[1].split("?")[0]
    assert requests.get(staging.bus, token).kind == "delete"
    assert requests.get(prod.bus, token) is None
    assert c.get("/admin/events/dlq?env=qa").status_code == 404
    envs.stop()
