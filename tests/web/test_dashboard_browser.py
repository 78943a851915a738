"""The dashboard in a real browser (headless Chromium): sign in, overview, filter the DLQ,
select entries, Reprocess Selected, confirm, a second operator approves in another browser
session, the job completes and the entries are back on the main stream. Refused posts, and
an event type carrying a script tag shown as text."""
from __future__ import annotations

import json
import math

import pytest
from selenium.common.exceptions import NoAlertPresentException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.factories import add_dlq, add_event
from tests.web.conftest import TOKENS

pytestmark = [pytest.mark.browser, pytest.mark.real_redis]
WAIT_S = 20
HOUR = 3_600_000


def wait_for(driver, condition) -> None:
    """Poll `condition` until it holds (or WAIT_S passes) while pages load and reload: a page
    that navigates away under the check makes its elements stale, which is retried."""
    WebDriverWait(driver, WAIT_S, poll_frequency=0.1, ignored_exceptions=(WebDriverException,)).until(condition)


def sign_in(driver, served, name: str) -> None:
    driver.get(served.url + "/admin/login")
    driver.find_element(By.NAME, "token").send_keys(TOKENS[name])
    driver.find_element(By.CSS_SELECTOR, "form.login button[type=submit]").click()
    wait_for(driver, lambda d: d.current_url.endswith("/admin/events"))


def button(driver, text: str):
    return driver.find_element(By.XPATH, f"//button[normalize-space()='{text}']")


def tab(driver, label: str) -> None:
    driver.find_element(By.LINK_TEXT, label).click()
    wait_for(driver, lambda d: d.find_element(By.CSS_SELECTOR, "nav a.on").text == label)


def snap(driver, path) -> None:
    """A screenshot of the whole page (the window grows to the page's height for it)."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1360, max(700, min(int(height) + 20, 4000)))
    driver.save_screenshot(str(path))
    driver.set_window_size(1360, 1000)


def no_alert(driver) -> bool:
    try:
        _ = driver.switch_to.alert
    except NoAlertPresentException:
        return True
    return False


def seed(served) -> dict[str, list[str]]:
    """A bus with history: main stream, a group, a DLQ of two types and 24 h of samples."""
    bus, r = served.bus, served.bus.r
    now = bus.clock()
    for i in range(30):
        add_event(r, bus.keys.events, now - 60_000 + i, type_="workspace.member.added")
    r.xgroup_create(bus.keys.events, bus.keys.group, id="0")
    ids: dict[str, list[str]] = {"approval.item.created": [], "crm.contact.created": []}
    for i in range(12):
        t = "approval.item.created" if i % 3 else "crm.contact.created"
        eid, _ = add_dlq(r, bus.keys.dlq, now - 30_000 + i, type_=t, tenant=f"ws_{i % 2}",
                         error=f"timeout after {5000 + i}ms for ap_{i}")
        ids[t].append(eid)
    added = 0
    for k in range(288):  # a sample every 5 minutes over the last day, as the alert checks write them
        ts = now - 24 * HOUR + k * 300_000 + 1
        added += (k // 24) % 5
        lags = {bus.keys.group: float(300 + 250 * math.sin(k / 20)),
                "analytics": None if 100 < k < 130 else float(k * 4)}
        r.xadd(bus.keys.history, {"ts": str(ts), "dlq": str(int(60 + 50 * math.sin(k / 30))),
                                  "added": str(added), "lags": json.dumps(lags)}, id=f"{ts}-*")
    return ids


def test_reprocess_selected_with_a_second_operators_approval(served, browser, shots):
    ids = seed(served)
    bus = served.bus
    alice = browser()
    sign_in(alice, served, "alice")
    assert "Overview" in alice.title
    assert alice.find_element(By.CSS_SELECTOR, "nav a.on").text == "Overview"
    assert len(alice.find_elements(By.CSS_SELECTOR, ".chart > svg")) == 3
    snap(alice, shots / "overview.png")

    tab(alice, "Dead Letter Queue")
    alice.find_element(By.NAME, "type").send_keys("crm.contact.created")
    button(alice, "Filter").click()
    wait_for(alice, lambda d: "type=crm.contact.created" in d.current_url)
    rows = alice.find_elements(By.CSS_SELECTOR, "table.entries input[name=ids]")
    assert sorted(r.get_attribute("value") for r in rows) == sorted(ids["crm.contact.created"])
    snap(alice, shots / "dlq-filtered.png")
    chosen = [rows[0].get_attribute("value"), rows[1].get_attribute("value")]
    rows[0].click()
    rows[1].click()
    button(alice, "Reprocess Selected").click()

    wait_for(alice, lambda d: "/admin/events/requests/" in d.current_url)
    assert alice.find_element(By.CSS_SELECTOR, "dd.to-move").text == "2"
    snap(alice, shots / "preview.png")
    button(alice, "Request approval").click()
    wait_for(alice, lambda d: "AWAITING" in d.find_element(By.TAG_NAME, "h1").text)
    assert not alice.find_elements(By.XPATH, "//button[normalize-space()='Approve']")  # never your own
    posted = [m for m, _ in served.notifier.posts if m.template == "guard_approval"]
    assert len(posted) == 1  # the usual Approve / Reject in the actions channel, for Slack

    bob = browser()
    sign_in(bob, served, "bob")
    tab(bob, "Approvals")
    snap(bob, shots / "approvals.png")
    button(bob, "Approve").click()
    wait_for(bob, lambda d: "/admin/events/jobs/" in d.current_url)
    wait_for(bob, lambda d: "COMPLETED" in d.find_element(By.CSS_SELECTOR, ".job-status").text)
    snap(bob, shots / "job.png")

    left = {i for i, _ in bus.r.xrange(bus.keys.dlq)}
    assert not left & set(chosen) and len(left) == 10
    back = {f["reprocessedFrom"] for _, f in bus.r.xrange(bus.keys.events) if "reprocessedFrom" in f}
    assert back == set(chosen)
    audit = [(f["who"], f["what"]) for _, f in bus.r.xrange(bus.keys.audit)]
    assert ("api:alice", "reprocess_bulk.request") in audit
    assert ("api:alice", "reprocess_bulk.confirm") in audit
    assert ("api:bob", "reprocess_bulk.approve") in audit

    tab(bob, "Audit")
    snap(bob, shots / "audit.png")
    tab(bob, "Jobs")
    snap(bob, shots / "jobs.png")
    tab(bob, "Replay")
    snap(bob, shots / "replay.png")


def test_a_viewer_sees_no_buttons_and_a_forged_post_is_refused(served, browser, shots):
    seed(served)
    bus = served.bus
    vic = browser()
    vic.get(served.url + "/admin/events")  # signed out: the sign-in page
    wait_for(vic, lambda d: d.current_url.endswith("/admin/login"))
    snap(vic, shots / "login.png")
    sign_in(vic, served, "vic")
    vic.get(served.url + "/admin/events/dlq")
    assert vic.find_elements(By.CSS_SELECTOR, "table.entries tr")
    assert not vic.find_elements(By.NAME, "ids")
    assert not vic.find_elements(By.XPATH, "//button[normalize-space()='Reprocess Selected']")
    snap(vic, shots / "dlq-viewer.png")
    victim = bus.r.xrange(bus.keys.dlq, count=1)[0][0]
    token = vic.find_element(By.NAME, "csrf_token").get_attribute("value")  # of the sign-out form
    _post_form(vic, "/admin/events/dlq/selected", {"csrf_token": token, "ids": victim, "action": "reprocess"})
    wait_for(vic, lambda d: "Refused" in d.title)
    assert "Only busbot operators" in vic.find_element(By.TAG_NAME, "main").text
    snap(vic, shots / "refused.png")
    assert bus.r.xlen(bus.keys.dlq) == 12
    refused = [f for _, f in bus.r.xrange(bus.keys.audit) if f["what"] == "refused"]
    assert refused and refused[-1]["who"] == "api:vic" and refused[-1]["result"] == "not an operator"


def test_a_post_without_its_csrf_token_is_refused(served, browser):
    seed(served)
    bus = served.bus
    alice = browser()
    sign_in(alice, served, "alice")
    victim = bus.r.xrange(bus.keys.dlq, count=1)[0][0]
    _post_form(alice, "/admin/events/dlq/selected", {"ids": victim, "action": "reprocess"})
    wait_for(alice, lambda d: "Refused" in d.title)
    assert "CSRF" in alice.find_element(By.TAG_NAME, "main").text
    assert bus.r.xlen(bus.keys.dlq) == 12
    assert not [k for k in bus.r.scan_iter(match=bus.keys.approval("*"))]  # no request was made
    refused = [f for _, f in bus.r.xrange(bus.keys.audit) if f["what"] == "refused"]
    assert refused[-1]["who"] == "api:alice" and "CSRF" in refused[-1]["result"]


def test_an_event_type_with_a_script_tag_is_shown_as_text(served, browser, shots):
    bus = served.bus
    hostile = "<script>alert('pwned')</script><img src=x onerror=alert(2)>"
    eid, _ = add_dlq(bus.r, bus.keys.dlq, bus.clock() - 1000, type_=hostile,
                     error="<b>bold</b> <script>alert(3)</script>")
    alice = browser()
    sign_in(alice, served, "alice")
    alice.get(served.url + "/admin/events/dlq")
    cells = [c.text for c in alice.find_elements(By.CSS_SELECTOR, "table.entries td.etype")]
    assert cells == [hostile]
    assert hostile in [c.text for c in alice.find_elements(By.CSS_SELECTOR, "table.top-type code")]
    assert no_alert(alice)
    assert not alice.find_elements(By.CSS_SELECTOR, "main img")
    snap(alice, shots / "dlq-hostile.png")
    alice.find_element(By.LINK_TEXT, eid).click()
    wait_for(alice, lambda d: d.current_url.endswith(eid))
    assert alice.find_element(By.CSS_SELECTOR, "dd.etype").text == hostile
    assert "<script>alert(3)</script>" in alice.find_element(By.CSS_SELECTOR, "pre.error-text").text
    assert json.loads(alice.find_element(By.CSS_SELECTOR, "pre.event-json").text)["type"] == hostile
    assert no_alert(alice)
    snap(alice, shots / "dlq-entry.png")


def _post_form(driver, path: str, fields: dict[str, str]) -> None:
    """Submit a form the page never offered (built through WebDriver, which the page's
    Content-Security-Policy does not govern), as a forged request would."""
    driver.execute_script(
        "const f = document.createElement('form'); f.method = 'post'; f.action = arguments[0];"
        "for (const [k, v] of Object.entries(arguments[1])) {"
        "  const i = document.createElement('input'); i.type = 'hidden'; i.name = k; i.value = v;"
        "  f.appendChild(i); }"
        "document.body.appendChild(f); f.submit();", path, fields)


def test_a_link_from_another_site_keeps_the_session(served, browser):
    """SameSite=Strict cookies are not sent on a navigation that starts on another site (a
    link in Slack): the dashboard must not answer it by signing the user out."""
    seed(served)
    alice = browser()
    sign_in(alice, served, "alice")
    alice.get(f"data:text/html,<a id='go' href='{served.url}/admin/events/dlq?type=crm.contact.created'>DLQ</a>")
    alice.find_element(By.ID, "go").click()
    wait_for(alice, lambda d: d.find_element(By.CSS_SELECTOR, "nav a.on").text == "Dead Letter Queue")
    assert "api:alice" in alice.find_element(By.TAG_NAME, "header").text
    assert "type=crm.contact.created" in alice.current_url
    alice.get(served.url + "/admin/events/jobs")
    assert "api:alice" in alice.find_element(By.TAG_NAME, "header").text
