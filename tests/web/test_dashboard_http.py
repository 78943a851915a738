"""The dashboard over HTTP (Flask's test client, a real redis-server): sign-in and sessions,
cookie flags, security headers, CSRF, roles, trusted-proxy SSO, the guarded flow's rules,
and the same counts as `/bus dlq top` and the API's `GET /events/dlq/top`."""
from __future__ import annotations

import logging
import re
import time

import pytest

from bot.actions import requests
from bot.actions.runtime import ActionRunner, hooks_for
from bot.bus import Bus
from bot.connection import connect
from bot.render import render
from bot.runtime import Runtime, build_runtime
from bot.timeparse import iso_ms
from bot.web import dash_auth
from commands.router import run, run_action
from tests.blockcheck import assert_valid_message
from tests.factories import add_dlq, add_event
from tests.runtime_helpers import RecordingNotifier
from tests.web.conftest import TOKENS, csrf_of, dash_app, dash_settings

pytestmark = pytest.mark.real_redis


def make_rt(r, **overrides) -> Runtime:
    return build_runtime(Bus(r, dash_settings(**overrides), where="test redis"), RecordingNotifier(),
                         start_jobs=False)


@pytest.fixture
def rt(real_r) -> Runtime:
    return make_rt(real_r)


def seed_dlq(bus: Bus, n: int = 6) -> list[str]:
    now = bus.clock()
    add_event(bus.r, bus.keys.events, now - 10_000)
    return [add_dlq(bus.r, bus.keys.dlq, now - 5000 + i,
                    type_="crm.contact.created" if i % 2 else "approval.item.created",
                    tenant=f"ws_{i % 3}", error=f"timeout after {100 + i}ms for ap_{i}")[0] for i in range(n)]


def signed_in(app, name: str, **kw):
    c = app.test_client(**kw)
    page = c.get("/admin/login")
    resp = c.post("/admin/login", data={"token": TOKENS[name], "csrf_token": csrf_of(page.text)})
    assert resp.status_code == 302, resp.text
    return c


def post(c, path: str, page_path: str = "/admin/events", **data):
    token = csrf_of(c.get(page_path).text)
    return c.post(path, data={"csrf_token": token, **data})


def audit_rows(bus: Bus) -> list[dict]:
    return [f for _, f in bus.r.xrange(bus.keys.audit)]


def test_security_headers_on_every_page(rt):
    app = dash_app(rt)
    c, anonymous = signed_in(app, "alice"), app.test_client()
    for client, path in ((anonymous, "/admin/login"), (c, "/admin/events"), (c, "/admin/events/dlq"),
                         (c, "/admin/events/nothing-here")):
        resp = client.get(path)
        csp = resp.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert resp.headers["X-Frame-Options"] == "DENY"
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
        assert f'<style nonce="{nonce}">' in resp.text
        assert "<script" not in resp.text  # no script at all, so none to inject next to
    assert c.get("/admin/events/nothing-here").status_code == 404
    assert c.get("/admin", follow_redirects=True).request.path == "/admin/events"


def test_the_session_cookie_is_httponly_strict_scoped_and_secure_over_https(rt):
    app = dash_app(rt)
    plain = app.test_client()
    resp = plain.post("/admin/login", data={"token": TOKENS["alice"],
                                            "csrf_token": csrf_of(plain.get("/admin/login").text)})
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/admin" in cookie
    assert "Secure" not in cookie and "Expires=" in cookie
    tls = app.test_client()
    page = tls.get("/admin/login", base_url="https://busbot.example")
    form = {"token": TOKENS["alice"], "csrf_token": csrf_of(page.text)}
    resp = tls.post("/admin/login", base_url="https://busbot.example", data=form)
    assert resp.status_code == 403  # over HTTPS a form must also come with a same-origin Referer
    resp = tls.post("/admin/login", base_url="https://busbot.example", data=form,
                    headers={"Referer": "https://busbot.example/admin/login"})  # as a browser sends it
    assert "; Secure" in resp.headers["Set-Cookie"]
    assert resp.headers["Referrer-Policy"] == "same-origin"


def test_a_wrong_token_is_refused_and_never_echoed(rt, caplog):
    app = dash_app(rt)
    c = app.test_client()
    resp = c.post("/admin/login", data={"token": "guess-123", "csrf_token": csrf_of(c.get("/admin/login").text)})
    assert resp.status_code == 401 and "That token is not valid." in resp.text
    assert "guess-123" not in resp.text and "guess-123" not in caplog.text
    assert c.get("/admin/events").status_code == 302


def test_signed_out_requests_go_to_the_sign_in_page(rt):
    c = dash_app(rt).test_client()
    resp = c.get("/admin/events/dlq")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/admin/login")
    resp = c.post("/admin/events/dlq/selected", data={"csrf_token": csrf_of(c.get("/admin/login").text),
                                                      "ids": "1-0", "action": "reprocess"})
    assert resp.status_code == 401


def test_sign_out_ends_the_session(rt):
    c = signed_in(dash_app(rt), "alice")
    assert post(c, "/admin/logout").status_code == 302
    assert c.get("/admin/events").status_code == 302


def test_a_removed_token_ends_its_sessions(real_r):
    rt = make_rt(real_r)
    c = signed_in(dash_app(rt), "alice")
    cookie = c.get_cookie("busbot_session", path="/admin").value
    later = make_rt(real_r, bus_api_tokens=f"bob:{TOKENS['bob']}")  # same secret, alice's token gone
    c2 = dash_app(later).test_client()
    c2.set_cookie("busbot_session", cookie, path="/admin")
    assert c2.get("/admin/events").status_code == 302
    c3 = dash_app(make_rt(real_r)).test_client()  # with the token still there, the cookie works
    c3.set_cookie("busbot_session", cookie, path="/admin")
    assert c3.get("/admin/events/audit").status_code == 200


def test_a_session_expires_after_eight_hours(rt, monkeypatch):
    c = signed_in(dash_app(rt), "alice")
    assert c.get("/admin/events/audit").status_code == 200
    real = time.time
    monkeypatch.setattr(dash_auth.time, "time", lambda: real() + dash_auth.SESSION_HOURS * 3600 + 5)
    assert c.get("/admin/events/audit").status_code == 302


def test_a_post_without_csrf_token_is_refused_and_audited(rt):
    ids = seed_dlq(rt.bus)
    c = signed_in(dash_app(rt), "alice")
    resp = c.post("/admin/events/dlq/selected", data={"ids": ids[0], "action": "reprocess"})
    assert resp.status_code == 403 and "CSRF" in resp.text
    row = audit_rows(rt.bus)[-1]
    assert (row["who"], row["what"], row["result"]) == ("api:alice", "refused", "missing or invalid CSRF token")
    assert rt.bus.r.xlen(rt.bus.keys.dlq) == len(ids)


def test_a_viewer_sees_no_action_and_a_forged_post_is_refused_and_audited(rt):
    ids = seed_dlq(rt.bus)
    c = signed_in(dash_app(rt), "vic")
    page = c.get("/admin/events/dlq").text
    assert 'name="ids"' not in page and "Reprocess Selected" not in page and "(viewer)" in page
    for path, data in (("/admin/events/dlq/selected", {"ids": ids[0], "action": "delete"}),
                       ("/admin/events/replay", {"start": "1h"}),
                       ("/admin/events/jobs/j1/cancel", {})):
        resp = post(c, path, **data)
        assert resp.status_code == 403 and "Only busbot operators" in resp.text
        row = audit_rows(rt.bus)[-1]
        assert (row["who"], row["what"], row["result"]) == ("api:vic", "refused", "not an operator")
    assert rt.bus.r.xlen(rt.bus.keys.dlq) == len(ids)


def test_the_trusted_header_is_believed_only_from_a_trusted_proxy(real_r):
    rt = make_rt(real_r, bus_dashboard_trusted_header="X-Forwarded-Email",
                 bus_dashboard_trusted_proxies="10.0.0.0/8", bus_operators="api:alice,ops@example.com")
    app = dash_app(rt)
    proxied = app.test_client()
    resp = proxied.get("/admin/events/dlq", headers={"X-Forwarded-Email": "ops@example.com"},
                       environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert resp.status_code == 200 and "ops@example.com" in resp.text and "(operator)" in resp.text
    direct = app.test_client()
    resp = direct.get("/admin/events/dlq", headers={"X-Forwarded-Email": "ops@example.com"},
                      environ_base={"REMOTE_ADDR": "192.168.1.9"})
    assert resp.status_code == 302  # a header from anywhere else is ignored
    resp = app.test_client().get("/admin/events/dlq", headers={"X-Forwarded-Email": "api:alice"},
                                 environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert resp.status_code == 302  # token identities (api:<name>) come from tokens only
    page = proxied.get("/admin/login", headers={"X-Forwarded-Proto": "https", "X-Forwarded-Email": "x@y"},
                       environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert "; Secure" in page.headers.get("Set-Cookie", "; Secure")


def test_reprocess_one_runs_at_confirm_when_the_policy_needs_no_approval(rt):
    ids = seed_dlq(rt.bus)
    c = signed_in(dash_app(rt), "alice")
    resp = post(c, "/admin/events/dlq/selected", "/admin/events/dlq", ids=ids[2], action="reprocess")
    assert resp.status_code == 303
    page = c.get(resp.headers["Location"]).text
    assert "Reprocess 1 DLQ entry" in page and "Confirm: Reprocess" in page
    assert "1 DLQ entry goes back to" in page and "and leaves the DLQ" in page
    token = resp.headers["Location"].rsplit("/", 1)[1]
    resp = post(c, f"/admin/events/requests/{token}/confirm", f"/admin/events/requests/{token}")
    assert resp.status_code == 303 and "/admin/events/jobs/" in resp.headers["Location"]
    assert "COMPLETED" in c.get(resp.headers["Location"]).text
    assert ids[2] not in {i for i, _ in rt.bus.r.xrange(rt.bus.keys.dlq)}
    assert [f["reprocessedFrom"] for _, f in rt.bus.r.xrange(rt.bus.keys.events) if "reprocessedFrom" in f] == [ids[2]]


def test_the_requester_cannot_approve_and_slack_can(rt):
    """Delete Selected of several entries is a purge (approval by default); its requester is
    refused, and a second operator's click on the Slack message approves it."""
    ids = seed_dlq(rt.bus)
    c = signed_in(dash_app(rt), "alice")
    resp = c.post("/admin/events/dlq/selected", data={"csrf_token": csrf_of(c.get("/admin/events/dlq").text),
                                                      "ids": ids[:3], "action": "delete"})
    token = resp.headers["Location"].rsplit("/", 1)[1]
    post(c, f"/admin/events/requests/{token}/confirm", f"/admin/events/requests/{token}")
    assert requests.get(rt.bus, token).state == "AWAITING"
    page = c.get(f"/admin/events/requests/{token}").text
    assert ">Approve<" not in page and "another operator has to approve it" in page
    resp = post(c, f"/admin/events/requests/{token}/approve", f"/admin/events/requests/{token}")
    assert requests.get(rt.bus, token).state == "AWAITING"
    assert audit_rows(rt.bus)[-1]["what"] == "purge.approve.refused"
    slack_post = [m for m, _ in rt.notifier.posts if m.template == "guard_approval"]
    assert len(slack_post) == 1
    blocks = {**render(slack_post[0].template, slack_post[0].context), "text": slack_post[0].text}
    assert_valid_message(blocks)  # as the Slack notifier posts it
    buttons = [e for b in blocks["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert {(e["action_id"], e["value"]) for e in buttons} == {("guard_approve", token), ("guard_reject", token)}
    run_action("guard_approve", token, rt, "api:bob")  # the Slack button's handler
    ActionRunner(rt.bus, rt.notifier, hooks=hooks_for(rt.notifier)).tick()
    left = {i for i, _ in rt.bus.r.xrange(rt.bus.keys.dlq)}
    assert left == set(ids[3:])
    assert rt.bus.r.xlen(rt.bus.keys.dlq_archive) == 3
    assert "COMPLETED" in c.get(f"/admin/events/jobs/{requests.get(rt.bus, token).job_id}").text


def test_replay_preview_shows_the_exact_count_before_anything_is_written(rt):
    bus = rt.bus
    now = bus.clock()
    for i in range(20):
        add_event(bus.r, bus.keys.events, now - 600_000 + i * 1000,
                  type_="auth.user.created" if i % 4 else "crm.contact.created")
    c = signed_in(dash_app(rt), "alice")
    assert "crm.contact.created" in c.get("/admin/events/replay").text
    resp = post(c, "/admin/events/replay", "/admin/events/replay", start="20m", end="", types="crm.contact.created")
    assert resp.status_code == 303
    page = c.get(resp.headers["Location"]).text
    assert "Replay 5 events" in page and "Request approval" in page
    assert bus.r.xlen(bus.keys.events) == 20
    resp = post(c, "/admin/events/replay", "/admin/events/replay", start="yesterday-ish")
    assert resp.status_code == 400 and "is not a time" in resp.text


def test_dlq_top_counts_match_the_slash_command_and_the_api(rt):
    """The same DLQ through the three front ends: `/bus dlq top`, the dashboard's top
    tables and `GET /events/dlq/top` give the same rows and counts."""
    bus = rt.bus
    now = bus.clock()
    for i in range(40):
        add_dlq(bus.r, bus.keys.dlq, now - 90_000 + i, type_=("a.b.c", "d.e.f", "<x&y>")[i % 3] if i % 7 else "a.b.c",
                tenant=f"ws_{i % 4}", error=("boom", "timeout after 12ms", "")[i % 3])
    reply = run("dlq top 25", rt, "U123")
    top = reply.context["t"]
    app = dash_app(rt)
    html = signed_in(app, "vic").get("/admin/events/dlq").text
    resp = app.test_client().get("/events/dlq/top?limit=25", headers={"Authorization": f"Bearer {TOKENS['vic']}"})
    assert resp.status_code == 200, resp.text
    api = resp.get_json()

    def table(key: str) -> dict[str, int]:
        block = re.search(rf'<table class="top top-{key}">(.*?)</table>', html, re.S).group(1)
        rows = re.findall(r'<td><code>(.*?)</code></td><td class="num">([\d,]+)</td>', block)
        return {k.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"): int(n.replace(",", ""))
                for k, n in rows}
    assert table("type") == {r.key: r.count for r in top.by_type}
    assert table("sig") == {r.key: r.count for r in top.by_signature}
    assert table("tenant") == {r.key: r.count for r in top.by_tenant}
    assert sum(table("type").values()) == 40
    for key, rows in (("byType", top.by_type), ("bySignature", top.by_signature), ("byTenant", top.by_tenant)):
        assert [(r["key"], r["count"]) for r in api[key]] == [(r.key, r.count) for r in rows], key
    assert (api["total"], api["malformed"]) == (top.total, top.malformed) and top.total == 40


def test_show_these_links_filter_the_list(rt):
    seed_dlq(rt.bus, 9)
    c = signed_in(dash_app(rt), "alice")
    page = c.get("/admin/events/dlq").text
    link = re.search(r'href="(/admin/events/dlq\?tenant=ws_1)"', page).group(1)
    listed = re.findall(r'name="ids" value="([^"]+)"', c.get(link).text)
    assert len(listed) == 3
    sig = re.search(r'href="(/admin/events/dlq\?sig=[^"]+)"', page).group(1).replace("&amp;", "&")
    assert len(re.findall(r'name="ids"', c.get(sig).text)) == 9
    page = c.get("/admin/events/dlq?since=nonsense").text
    assert "is not a time" in page
    resp = c.get("/admin/events/dlq?before=0-0x")
    assert resp.status_code == 200 and "before must be a stream id" in resp.text


def test_redis_unreachable_is_one_sentence(rt):
    dead = build_runtime(Bus(connect("redis://127.0.0.1:1/0"), dash_settings(), where="redis://127.0.0.1:1"),
                         RecordingNotifier(), start_jobs=False)
    c = signed_in(dash_app(dead), "alice")  # signing in needs no Redis: only the audit line is lost
    resp = c.get("/admin/events")
    assert resp.status_code == 503 and "Redis is not answering" in resp.text and "Traceback" not in resp.text


def test_a_request_made_in_slack_is_approved_in_the_dashboard(rt):
    ids = seed_dlq(rt.bus)
    run("reprocess type=crm.contact.created", rt, "api:alice")  # the slash command
    token = next(k for k in rt.bus.r.scan_iter(match=rt.bus.keys.approval("*"))).rsplit(":", 1)[1]
    run_action("guard_confirm", token, rt, "api:alice")  # Slack's Request approval button
    c = signed_in(dash_app(rt), "bob")
    assert "Reprocess 3 DLQ entries" in c.get("/admin/events/approvals").text
    resp = post(c, f"/admin/events/requests/{token}/approve", "/admin/events/approvals")
    assert "/admin/events/jobs/" in resp.headers["Location"]
    ActionRunner(rt.bus, rt.notifier, hooks=hooks_for(rt.notifier)).tick()
    assert {i for i, _ in rt.bus.r.xrange(rt.bus.keys.dlq)} == set(ids[0::2])
    assert ("api:bob", "reprocess_bulk.approve") in [(f["who"], f["what"]) for f in audit_rows(rt.bus)]


def test_an_operator_cancels_a_running_job(rt):
    seed_dlq(rt.bus)
    c = signed_in(dash_app(rt), "alice")
    resp = c.post("/admin/events/dlq/selected", data={"csrf_token": csrf_of(c.get("/admin/events/dlq").text),
                                                      "ids": [i for i, _ in rt.bus.r.xrange(rt.bus.keys.dlq)][:4],
                                                      "action": "reprocess"})
    token = resp.headers["Location"].rsplit("/", 1)[1]
    post(c, f"/admin/events/requests/{token}/confirm", f"/admin/events/requests/{token}")
    bob = signed_in(dash_app(rt), "bob")
    resp = post(bob, f"/admin/events/requests/{token}/approve", "/admin/events/approvals")
    job_page = resp.headers["Location"]
    assert "Cancel job" in bob.get(job_page).text  # no runner has taken it yet: still RUNNING
    resp = post(bob, job_page + "/cancel", job_page)
    assert resp.status_code == 303 and "CANCELLED" in bob.get(job_page).text
    assert rt.bus.r.xlen(rt.bus.keys.dlq) == 6  # nothing moved


def test_paging_and_until(rt):
    bus = rt.bus
    now = bus.clock()
    ids = [add_dlq(bus.r, bus.keys.dlq, now - 100_000 + i * 1000)[0] for i in range(30)]
    c = signed_in(dash_app(rt), "alice")
    first = c.get("/admin/events/dlq").text
    assert re.findall(r'name="ids" value="([^"]+)"', first) == ids[::-1][:25]
    older = re.search(r'href="([^"]+)">Older<', first).group(1).replace("&amp;", "&")
    assert re.findall(r'name="ids" value="([^"]+)"', c.get(older).text) == ids[::-1][25:]
    until = iso_ms(now - 100_000 + 9 * 1000)  # the tenth entry's time: it and the nine before
    page = c.get("/admin/events/dlq", query_string={"until": until}).text
    assert re.findall(r'name="ids" value="([^"]+)"', page) == ids[:10][::-1]


def test_only_the_requester_confirms_or_cancels_a_preview(rt):
    ids = seed_dlq(rt.bus)
    alice = signed_in(dash_app(rt), "alice")
    resp = post(alice, "/admin/events/dlq/selected", "/admin/events/dlq", ids=ids[:2], action="reprocess")
    token = resp.headers["Location"].rsplit("/", 1)[1]
    bob, vic = signed_in(dash_app(rt), "bob"), signed_in(dash_app(rt), "vic")
    assert "Request approval" not in bob.get(f"/admin/events/requests/{token}").text
    for who, client, button, why in (("api:bob", bob, "confirm", "not the requester"),
                                     ("api:bob", bob, "cancel", "not the requester"),
                                     ("api:vic", vic, "cancel", "not an operator")):
        resp = post(client, f"/admin/events/requests/{token}/{button}", f"/admin/events/requests/{token}")
        assert resp.status_code == 403
        row = audit_rows(rt.bus)[-1]
        assert (row["who"], row["what"], row["result"]) == (who, "refused", why)
    assert requests.get(rt.bus, token).state == "PREVIEWED"


def test_a_cross_site_navigation_is_reloaded_from_the_site_without_a_new_cookie(rt):
    c = dash_app(rt).test_client()
    resp = c.get("/admin/events/dlq?type=a.b", headers={"Sec-Fetch-Site": "cross-site"})
    assert resp.status_code == 200 and "Set-Cookie" not in resp.headers
    assert 'content="0;url=/admin/events/dlq?type=a.b"' in resp.text
    assert resp.headers["X-Frame-Options"] == "DENY"
    resp = c.get("/admin/events/dlq?type=a.b", headers={"Sec-Fetch-Site": "same-origin"})
    assert resp.status_code == 302  # from the site itself, a signed-out user is sent to sign in


def test_a_refused_selection_returns_to_the_filtered_list_with_a_sentence(rt):
    seed_dlq(rt.bus)
    c = signed_in(dash_app(rt), "alice")
    resp = post(c, "/admin/events/dlq/selected", "/admin/events/dlq", action="reprocess",
                back="type=crm.contact.created&evil=https://x.example")
    assert resp.headers["Location"] == "/admin/events/dlq?type=crm.contact.created"
    assert "No entry was selected" in c.get(resp.headers["Location"]).text


def test_a_slack_request_page_shows_its_facts(rt):
    seed_dlq(rt.bus)
    run("reprocess type=crm.contact.created", rt, "api:alice")
    token = next(k for k in rt.bus.r.scan_iter(match=rt.bus.keys.approval("*"))).rsplit(":", 1)[1]
    page = signed_in(dash_app(rt), "alice").get(f"/admin/events/requests/{token}").text
    facts = requests.get(rt.bus, token).preview["facts"]
    assert facts and all(f"<dt>{f['label']}</dt>" in page for f in facts)


def test_anonymous_refusals_are_logged_not_audited(rt, caplog):
    caplog.set_level(logging.INFO, logger="bot.web.dashboard")
    c = dash_app(rt).test_client()
    for _ in range(3):
        assert c.post("/admin/events/dlq/selected", data={"ids": "1-0", "action": "delete"}).status_code == 403
    assert rt.bus.r.xlen(rt.bus.keys.audit) == 0
    assert "refused POST /admin/events/dlq/selected" in caplog.text


def test_start_up_says_when_nobody_can_sign_in(real_r, caplog):
    caplog.set_level(logging.INFO, logger="bot.web.dash_auth")
    dash_app(make_rt(real_r, bus_api_tokens=None, bus_dashboard_secret=None))
    assert "nobody can sign in to the dashboard" in caplog.text
    assert "BUS_DASHBOARD_SECRET is not set" in caplog.text
    caplog.clear()
    dash_app(make_rt(real_r))
    assert "nobody can sign in" not in caplog.text and "SECRET" not in caplog.text


def test_an_approver_refusal_names_the_setting_the_policy_reads(real_r):
    """While BUS_APPROVERS is empty the operators approve, so the hint names BUS_OPERATORS;
    once it lists approvers, it names BUS_APPROVERS."""
    for overrides, who, setting in (({}, "operators", "BUS_OPERATORS"),
                                    ({"bus_approvers": "api:bob"}, "approvers", "BUS_APPROVERS")):
        real_r.flushdb()
        rt = make_rt(real_r, **overrides)
        ids = seed_dlq(rt.bus)
        alice = signed_in(dash_app(rt), "alice")
        resp = post(alice, "/admin/events/dlq/selected", "/admin/events/dlq", ids=ids[:3], action="delete")
        token = resp.headers["Location"].rsplit("/", 1)[1]
        post(alice, f"/admin/events/requests/{token}/confirm", f"/admin/events/requests/{token}")
        vic = signed_in(dash_app(rt), "vic")
        resp = post(vic, f"/admin/events/requests/{token}/approve", f"/admin/events/requests/{token}")
        assert resp.status_code == 403
        assert f"Only busbot {who} can approve guarded actions" in resp.text
        assert f"add you to {setting}." in resp.text and ("BUS_APPROVERS" in resp.text) == (setting == "BUS_APPROVERS")
        assert requests.get(rt.bus, token).state == "AWAITING"
