"""`GET /events/health` (the runbook's JSON), `GET /metrics` (Prometheus text), and 404s."""
from __future__ import annotations

import json

from bot.timeparse import iso_ms


def _seed(bus, dlq: int = 2) -> None:
    bus.r.xadd(bus.keys.events, {"event": '{"id": "e1", "type": "auth.user.created"}'})
    bus.r.xgroup_create(bus.keys.events, bus.keys.group, "0")
    bus.r.xgroup_create(bus.keys.events, "hyvve-analytics", "$")
    for n in range(dlq):
        bus.r.xadd(bus.keys.dlq, {"event": f'{{"id": "d{n}"}}', "error": "boom"})


def test_health_json_has_the_runbook_fields(bot, bus):
    _seed(bus)
    meta_id = bus.r.xadd(bus.keys.metadata, {"eventId": "e1", "status": "completed"})
    status, text, headers = bot.get("/events/health")
    assert status == 200 and headers["Content-Type"] == "application/json"
    doc = json.loads(text)
    assert doc == {"status": "healthy", "streamLength": 1, "dlqLength": 2, "consumerGroups": 2,
                   "lastProcessedAt": iso_ms(int(meta_id.split("-")[0]))}


def test_health_json_without_metadata_says_null(bot, bus):
    _seed(bus, dlq=150)
    doc = json.loads(bot.get("/events/health")[1])
    assert doc["lastProcessedAt"] is None
    # DLQ > 100 is a warning, but all 150 arrived in the last hour: failed/hr > 50 is critical
    assert doc["status"] == "critical"


def test_metrics_expose_stream_lengths_for_the_runbook_alert(bot, bus):
    _seed(bus)
    status, text, headers = bot.get("/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    assert 'redis_stream_length{stream="hyvve:dlq"} 2.0' in text
    assert 'redis_stream_length{stream="hyvve:events"} 1.0' in text
    assert 'redis_stream_length{stream="hyvve:events:metadata"} 0.0' in text
    assert 'redis_stream_group_consumers{group="hyvve-platform",stream="hyvve:events"} 0.0' in text
    assert "busbot_redis_up 1.0" in text


def test_metrics_are_read_per_scrape(bot, bus):
    _seed(bus)
    bus.r.xadd(bus.keys.dlq, {"event": "{}", "error": "again"})
    assert 'redis_stream_length{stream="hyvve:dlq"} 3.0' in bot.get("/metrics")[1]


def test_unknown_lag_is_not_reported_as_zero(start_bot, real_r, settings):
    """After XDEL, XINFO GROUPS reports lag NULL: no lag sample, and lag_unknown 1."""
    from bot.bus import Bus

    bus = Bus(real_r, settings)
    ids = [real_r.xadd(bus.keys.events, {"event": "{}"}) for _ in range(3)]
    real_r.xgroup_create(bus.keys.events, bus.keys.group, "0")
    real_r.xreadgroup(bus.keys.group, "c1", {bus.keys.events: ">"}, count=1)
    real_r.xdel(bus.keys.events, ids[1])
    text = start_bot(bus).get("/metrics")[1]
    labels = '{group="hyvve-platform",stream="hyvve:events"}'
    assert f"redis_stream_group_lag_unknown{labels} 1.0" in text
    assert f"redis_stream_group_lag{labels}" not in text
    assert f"redis_stream_group_pending{labels} 1.0" in text


def test_anything_else_is_a_json_404(bot):
    for path in ("/", "/events", "/slack/events"):  # a GET on the Slack endpoint is not Slack
        status, text, _ = bot.get(path)
        assert status == 404
        assert json.loads(text)["error"].startswith("no route for GET")


def test_in_socket_mode_the_http_server_has_no_slack_route(bus):
    """With SLACK_APP_TOKEN Slack talks over a websocket: POST /slack/events is a 404."""
    from bot.web.app import create_app

    resp = create_app(bus, None).test_client().post("/slack/events", data="x")
    assert resp.status_code == 404
    assert resp.get_json()["error"] == "no route for POST /slack/events"
