"""What a newcomer reads: suggestions with the right usage, readable bounds, `now`, tenant
filters, small shares, counted nouns, balanced code spans, the approvals list, one flag
name for Redis, --version and where the console logs."""
from __future__ import annotations

import ast
import io
import json
import logging
import re
from pathlib import Path

import pytest

from bot import cli
from bot.actions import audit
from bot.alerts.rules import base_rules
from bot.console import logfile
from bot.console.render_text import render_reply_text
from bot.console.repl import Console
from bot.plural import plural
from bot.texttable import share
from bot.timeparse import MAX_ID_PART, parse_when
from commands import router
from tests.guard_helpers import buttons, click, gbus, grt, show  # noqa: F401  (gbus, grt: fixtures)
from tests.jobs_helpers import seed_dlq, seed_events

ROOT = Path(__file__).resolve().parents[1]


def slack_text(reply) -> str:
    return json.dumps(show(reply)["blocks"], ensure_ascii=False)


def test_a_suggested_subcommand_shows_its_own_usage(grt):
    reply = router.run("dlq topp", grt, "U1")
    assert reply.template == "error" and "Did you mean" in reply.text
    assert reply.context["hint"] == ["Usage: ", {"code": "/bus dlq top [N]"}]


def test_now_is_a_time_wherever_when_is_taken(gbus, grt):
    assert parse_when("now", 1_234) == 1_234 and parse_when(" NOW ", 5) == 5
    seed_events(gbus.r, gbus.keys.events, 5, start_ms=gbus.clock() - 60_000)
    reply = router.run("replay from=1h to=now", grt, "U1")
    assert reply.template == "guard_preview", reply.text


def test_the_replay_preview_shows_a_time_not_the_internal_bound(gbus, grt):
    seed_events(gbus.r, gbus.keys.events, 50, start_ms=1_000_000)
    reply = router.run("replay from=1970-01-01T00:16:40Z to=1970-01-01T00:16:40.010Z", grt, "U1")
    assert reply.template == "guard_preview"
    request = click(grt, reply, "guard_confirm", "U1")
    for shown in (slack_text(reply), slack_text(request), render_reply_text(reply, width=100).text,
                  render_reply_text(request, width=100).text):
        assert str(MAX_ID_PART) not in shown
        assert "the end of 1970-01-01T00:16:40.010Z" in shown


def test_dlq_list_filters_by_tenant(gbus, grt):
    seed_dlq(gbus.r, gbus.keys.dlq, 10)
    reply = router.run("dlq list tenant=ws_1", grt, "U1")
    tenants = {row["tenant"] for row in reply.context["rows"]}
    assert tenants == {"ws_1"} and len(reply.context["rows"]) == 5
    assert "tenant `ws_1`" in slack_text(reply)


def test_small_shares_are_not_rounded_down_to_nothing(gbus, grt):
    assert (share(1, 1000), share(0, 10), share(5, 10), share(999, 1000)) == ("<1%", "0%", "50%", "99%")
    seed_dlq(gbus.r, gbus.keys.dlq, 200, types=["a.big"])
    gbus.r.xadd(gbus.keys.dlq, {"event": json.dumps({"type": "a.rare", "tenantId": "ws_9"})})
    top = router.run("dlq top", grt, "U1")
    shares = {row[2]: row[1] for row in top.context["types"]}
    assert shares == {"a.big": "99%", "a.rare": "<1%"}


def test_counted_nouns_agree_with_their_number(gbus, grt):
    assert (plural(1, "DLQ entry"), plural(2, "DLQ entry"), plural(0, "job"), plural(1_204, "match")) == (
        "1 DLQ entry", "2 DLQ entries", "0 jobs", "1,204 matches")
    seed_dlq(gbus.r, gbus.keys.dlq, 1)
    purge = router.run("dlq purge", grt, "U1")
    assert purge.context["title"] == "Purge 1 DLQ entry"
    assert "1 DLQ entry match" in purge.text and "entries" not in purge.text.split(";")[0]
    top = router.run("dlq top", grt, "U1")
    assert "DLQ top: 1 entry" in slack_text(top) and "DLQ top: 1 entry" in render_reply_text(top).text
    dlq_rule = base_rules(gbus.settings)["dlq_size"]
    assert (dlq_rule.fmt(1), dlq_rule.fmt(1500)) == ("1 entry", "1,500 entries")


def test_code_spans_in_the_audit_view_stay_balanced(gbus, grt):
    audit.record(gbus, "U1", "dlq.purge.request", 'dlq purge error="`x` failed"', "1 selected")
    reply = router.run("audit", grt, "U1")
    line = show(reply)["blocks"][1]["text"]["text"]
    assert line.count("`") % 2 == 0 and "ˋxˋ" in line
    assert "`` dlq purge error=\"`x` failed\" ``" in render_reply_text(reply, width=120).text


def test_approvals_lists_waiting_requests_and_reopens_one_with_its_choices(gbus, grt):
    seed_dlq(gbus.r, gbus.keys.dlq, 10)
    preview = router.run("reprocess all", grt, "U1")
    request = click(grt, preview, "guard_confirm", "U1")
    refused = click(grt, request, "guard_approve", "U1")
    assert "another operator has to approve" in refused.text
    assert "`/bus approvals` lists the open requests" in render_reply_text(refused, width=100).text
    listing = router.run("approvals", grt, "U2")
    assert [r["title"] for r in listing.context["rows"]] == ["Reprocess 10 DLQ entries"]
    text = render_reply_text(listing, width=100).text
    assert "[1] Open: Reprocess 10 DLQ entries" in text
    reopened = router.run_action("bus_run", listing.context["buttons"][0]["value"], grt, "U2")
    assert reopened.template == "guard_approval" and reopened.visibility == "private"
    assert set(buttons(reopened)) == {"guard_approve", "guard_reject"}
    approved = click(grt, reopened, "guard_approve", "U2")
    assert approved.template == "job"
    assert router.run("approvals", grt, "U2").context["rows"] == []


def test_quitting_the_console_with_a_job_running_warns_first(gbus, grt):
    seed_dlq(gbus.r, gbus.keys.dlq, 10)
    request = click(grt, router.run("reprocess all", grt, "U1"), "guard_confirm", "U1")
    job_id = click(grt, request, "guard_approve", "U2").context["job"]["id"]
    out = io.StringIO()
    console = Console(grt, out, user="U1")
    assert console.handle("quit") is True  # warned, still here
    said = " ".join(out.getvalue().split())
    assert f"1 job is still running ({job_id})" in said and "Type quit again to leave anyway" in said
    assert console.handle("quit") is False


def test_redis_is_the_flag_of_every_subcommand_and_redis_url_a_hidden_alias(capsys):
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "subcommand")
    with_redis = [name for name, p in sub.choices.items() if "--redis-url" in p._option_string_actions]
    assert {"console", "worker", "serve", "check"} <= set(with_redis)
    for name in with_redis:
        p = sub.choices[name]
        assert "--redis" in p._option_string_actions, name
        assert p._option_string_actions["--redis"].dest == p._option_string_actions["--redis-url"].dest
        assert "--redis-url" not in p.format_help(), name
    args = parser.parse_args(["worker", "--group", "g", "--redis-url", "redis://old"])
    assert args.redis_url == "redis://old"
    assert parser.parse_args(["console", "--redis-url", "redis://x"]).redis == "redis://x"


def test_version(capsys):
    with pytest.raises(SystemExit) as done:
        cli.main(["--version"])
    assert done.value.code == 0
    assert re.fullmatch(r"busbot \d+\.\d+\.\S+\n", capsys.readouterr().out)


def test_the_console_logs_to_the_users_own_log_dir(tmp_path, monkeypatch):
    home = Path("/home/ann")
    assert logfile.log_dir({"XDG_STATE_HOME": "/st"}, "linux", home) == Path("/st/busbot")
    assert logfile.log_dir({}, "linux", home) == home / ".local/state/busbot"
    assert logfile.log_dir({"XDG_STATE_HOME": "relative"}, "linux", home) == home / ".local/state/busbot"
    assert logfile.log_dir({}, "darwin", home) == home / "Library/Logs/busbot"
    assert logfile.log_dir({"LOCALAPPDATA": "C:/AppData"}, "win32", home) == Path("C:/AppData/busbot/Logs")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    handler, where = logfile.log_handler()
    assert isinstance(handler, logging.FileHandler) and where == str(tmp_path / "state/busbot/console.log")
    handler.close()
    (tmp_path / "blocked").write_text("a file where the directory would be")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "blocked"))
    handler, where = logfile.log_handler()
    assert where == "stderr" and not isinstance(handler, logging.FileHandler)


def _literals(tree: ast.AST):
    """String constants of a module, its docstrings left out."""
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef)) and node.body
                  and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node


@pytest.mark.parametrize("path", sorted((ROOT / "commands").glob("*.py")), ids=lambda p: p.name)
def test_commands_write_no_slack_markup(path):
    """Commands return data: no mrkdwn escaping, code spans, bold, emoji or mentions in their strings."""
    tree = ast.parse(path.read_text())
    calls = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    assert "md" not in calls
    for node in _literals(tree):
        assert "`" not in node.value, (path.name, node.lineno, node.value)
        assert not re.search(r"(^|\s)\*\w[^*]*\*", node.value), (path.name, node.lineno, node.value)
        assert not re.search(r"(?<![\w:]):[a-z_]+:(?![\w:])|<[@#!]", node.value), (path.name, node.lineno, node.value)
