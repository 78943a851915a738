"""`busbot publish` and the refusals of `busbot worker` / `demo-load`, in process."""
from __future__ import annotations

import json

import pytest

from bot.cli import main


@pytest.fixture(autouse=True)
def no_env_redis(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)


@pytest.mark.real_redis
def test_publish_prints_ids_and_writes_the_event(real_r, redis_server, capsys):
    code = main(["publish", "approval.item.created", "--data", '{"approvalId": "ap_1"}',
                 "--tenant", "ws_123", "--user", "usr_9", "--redis-url", redis_server.url])
    entry_id, event_id = capsys.readouterr().out.split()
    assert code == 0
    [(eid, fields)] = real_r.xrange("hyvve:events")
    event = json.loads(fields["event"])
    assert eid == entry_id and event["id"] == event_id
    assert (event["type"], event["tenantId"], event["userId"], event["data"]) == (
        "approval.item.created", "ws_123", "usr_9", {"approvalId": "ap_1"})


@pytest.mark.parametrize("argv, message", [
    (["publish", "x", "--tenant", "t", "--data", "{nope"], "--data is not JSON"),
    (["publish", "x", "--tenant", "t", "--data", "[1]"], "--data must be a JSON object"),
    (["publish", "x", "--tenant", "t"], "needs a real Redis"),
    (["worker", "--group", "g"], "needs a real Redis"),
    (["demo-load", "--fail", "crm=2"], "bad --fail item 'crm=2'"),
])
def test_refusals_are_one_line_and_exit_2(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_worker_needs_a_group(capsys):
    with pytest.raises(SystemExit):
        main(["worker"])
    assert "--group" in capsys.readouterr().err


def test_handlers_modules_load_from_the_current_directory(tmp_path, monkeypatch):
    from bot.eventbus.cli import load_handlers

    (tmp_path / "shop_handlers.py").write_text(
        "def register(handlers):\n    handlers.register('crm.*', lambda msg: None)\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.path", [p for p in __import__("sys").path if p != str(tmp_path)])
    assert len(load_handlers(["shop_handlers"]).for_type("crm.contact.created")) == 1
    with pytest.raises(SystemExit, match="cannot import handlers module nope_handlers"):
        load_handlers(["nope_handlers"])


@pytest.mark.real_redis
def test_a_handler_limit_the_claim_idle_cannot_cover_is_one_line_and_exit_2(
        real_r, redis_server, tmp_path, monkeypatch, capsys):
    (tmp_path / "slow_handlers.py").write_text(
        "def register(handlers):\n"
        "    handlers.register('report.*', lambda msg: None, timeout=100)\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BUS_CLAIM_IDLE", "120")
    assert main(["worker", "--group", "g", "--handlers", "slow_handlers",
                 "--redis-url", redis_server.url]) == 2
    err = capsys.readouterr().err
    assert err.startswith("busbot worker: claim idle (120s) must be at least twice the longest "
                          "handler time limit (100s)")
    assert "raise BUS_CLAIM_IDLE or shorten the limit" in err and "Traceback" not in err
