"""Block Kit -> terminal text: what an on-call engineer reads in `busbot console`."""
from __future__ import annotations

import io

from bot.console.render_text import Choice, render_text
from bot.console.repl import Console
from bot.demo import seed
from bot.render import render_reply
from commands import router

HEALTH = {"text": "Event bus is warning", "blocks": [
    {"type": "header", "text": {"type": "plain_text", "text": "Event bus: warning", "emoji": True}},
    {"type": "section", "text": {"type": "mrkdwn",
                                 "text": ":large_yellow_circle: *WARNING* — DLQ holds 270 entries (warning above 100)"}},
    {"type": "section", "fields": [
        {"type": "mrkdwn", "text": "*Main stream* `hyvve:events`\n3,600 entries"},
        {"type": "mrkdwn", "text": "*DLQ* `hyvve:dlq`\n270 entries"},
        {"type": "mrkdwn", "text": "*Last processed*\n2m ago (2025-12-05T10:30:00.000Z)"},
        {"type": "mrkdwn", "text": "*Redis round trip*\n0.2 ms"}]},
    {"type": "divider"},
    {"type": "section", "text": {"type": "mrkdwn", "text": ":red_circle: *Group* `hyvve-analytics` :double_vertical_bar: paused"}},
    {"type": "section", "text": {"type": "mrkdwn", "text": ":large_green_circle: ok · :white_circle: unknown · :warning: careful · :rocket: go"}},
    {"type": "context", "elements": [{"type": "mrkdwn", "text": "Asked by <@U123ABC> · see <https://runbook.example/dlq|the runbook>"}]},
]}

TOP = {"blocks": [
    {"type": "section", "text": {"type": "mrkdwn", "text": "*By error*"}},
    {"type": "section", "text": {"type": "mrkdwn", "text":
        "```count  error\n-----  -----\n   90  duplicate key &quot; &lt;id&gt; &amp; more\n    3  at 10:30:00 :x:```"}},
    {"type": "actions", "elements": [
        {"type": "button", "text": {"type": "plain_text", "text": "Older →"}, "action_id": "bus_run", "value": "dlq list before=1-0"},
        {"type": "button", "text": {"type": "plain_text", "text": "Post to channel"}, "action_id": "bus_share", "value": "dlq top"},
        {"type": "button", "text": {"type": "plain_text", "text": "Purge"}, "action_id": "bus_purge", "value": "job_1",
         "style": "danger", "confirm": {"title": {"type": "plain_text", "text": "Purge?"},
                                        "text": {"type": "mrkdwn", "text": "Delete 12 entries &amp; archive them?"},
                                        "confirm": {"type": "plain_text", "text": "Yes"},
                                        "deny": {"type": "plain_text", "text": "No"}}}]},
    {"type": "section", "text": {"type": "mrkdwn", "text": "*crm.contact.created* · `ws_acme`\n_no error message_ (`event` is not valid JSON)"},
     "accessory": {"type": "button", "text": {"type": "plain_text", "text": "Show"}, "action_id": "bus_run", "value": "dlq show 5-0"}},
]}


def test_header_fields_divider_and_marks_read_as_plain_text():
    text = render_text(HEALTH).text
    lines = text.splitlines()
    assert lines[0] == "Event bus: warning" and lines[1] == "=" * len("Event bus: warning")
    assert "[WARN] WARNING — DLQ holds 270 entries" in text
    assert "*" not in text and "\033[" not in text  # no tty: bold is plain
    left = next(line for line in lines if line.startswith("Main stream"))
    assert left.split()[-2:] == ["DLQ", "`hyvve:dlq`"]  # two columns on one line
    right_col = left.index("DLQ")
    assert next(line for line in lines if line.startswith("3,600 entries")).index("270 entries") == right_col
    assert any(set(line) == {"-"} and len(line) >= 40 for line in lines)
    assert "[CRIT] Group `hyvve-analytics` [PAUSED] paused" in text
    assert "[OK] ok · [?] unknown · [!] careful · [rocket] go" in text
    assert "  Asked by @U123ABC · see the runbook (https://runbook.example/dlq)" in lines


def test_code_blocks_are_kept_buttons_numbered_and_share_left_out():
    screen = render_text(TOP)
    lines = screen.text.splitlines()
    assert "count  error" in lines and "-----  -----" in lines
    assert '   90  duplicate key &quot; <id> & more' in lines  # unescaped, otherwise as-is
    assert "    3  at 10:30:00 :x:" in lines  # a time is not an emoji; code keeps its text
    assert "[1] Older →  [2] Purge" in lines
    assert "    [3] Show" in lines
    assert "Post to channel" not in screen.text
    assert screen.choices == [
        Choice("Older →", "bus_run", "dlq list before=1-0"),
        Choice("Purge", "bus_purge", "job_1", "Delete 12 entries & archive them?"),
        Choice("Show", "bus_run", "dlq show 5-0")]
    assert "no error message (`event` is not valid JSON)" in screen.text


def test_bold_is_ansi_on_a_tty():
    text = render_text(HEALTH, color=True).text
    assert "\033[1mWARNING\033[0m" in text and "\033[2m  Asked by" in text


def test_a_message_without_blocks_shows_its_text():
    assert render_text({"text": "Done &amp; dusted :white_check_mark:"}).text == "Done & dusted [OK]"


def test_every_real_answer_renders_without_slack_markup(bus):
    seed(bus)
    for command in ("health", "dlq top", "dlq list", "groups", "help", "nonsense"):
        text = render_text(render_reply(router.run(command, bus, "console"))).text
        assert text.strip() and ":large_" not in text and "&lt;" not in text, command


def test_repl_runs_commands_numbers_and_leaves(bus):
    seed(bus)
    out = io.StringIO()
    answers = iter(["n"])
    console = Console(bus, out, read=lambda prompt: next(answers))
    assert console.handle("/bus dlq list type=crm.contact.created")
    first = console.choices[0]
    assert first.action_id == "bus_run" and first.value.startswith("dlq show ")
    assert console.handle("1")
    assert first.value.split()[-1] in out.getvalue().split("DLQ entries")[-1]
    assert console.handle("42") and "There is no choice [42]" in out.getvalue()
    console.choices = [Choice("Purge", "bus_purge", "x", "Delete 3 entries?")]
    assert console.handle("1") and out.getvalue().rstrip().endswith("Cancelled; nothing was done.")
    assert not console.handle("quit") and not console.handle("/bus exit")


def test_repl_loop_survives_ctrl_c_and_ends_on_ctrl_d(bus):
    lines = iter([KeyboardInterrupt, "help", EOFError, "never read"])

    def read(prompt):
        line = next(lines)
        if isinstance(line, type):
            raise line
        return line
    out = io.StringIO()
    assert Console(bus, out, read=read, echo=True).loop() == 0
    assert "help\nbusbot: commands" in out.getvalue()
    assert next(lines) == "never read"
