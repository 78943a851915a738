"""View model -> terminal text: what an on-call engineer reads in `busbot console`. The text
comes from the same view models as Slack's blocks, never from Slack markup."""
from __future__ import annotations

import io
import re

import pytest

from bot.console.render_text import PRE, Choice, code_text, layout, render_reply_text, render_text
from bot.console.repl import Console
from bot.demo import seed
from bot.phrase import code, fact, person, phrase, plain, symbol
from bot.render import RENDER_FAILED, mrkdwn
from bot.symbols import SYMBOLS, glyph
from commands import router
from commands.reply import Reply
from tests.runtime_helpers import manual_runtime

SLACK_MARKUP = re.compile(r"(?<![\w:]):[a-z_]+:(?![\w:])"  # :emoji:, not a stream name like hyvve:dlq:x
                          r"|<@|<#|&lt;|&gt;|&amp;|```"
                          r"|\*[A-Za-z][^*\n]*\*|(?<![\w`])_[A-Za-z][^_\n]*_(?![\w`])")

PREVIEW = {"title": "Purge 12 DLQ entries", "summary": phrase("12 of ", code("hyvve:dlq"), " & more go"),
           "facts": [fact("Selected", "12 of 30"), fact("Fixed upper bound", code("9-0"), " (1970-01-01)")],
           "breakdown": {"by_type": [["crm.contact.created", 12]], "by_tenant": [["ws_1", 12]]},
           "notes": [phrase("These buttons expire in 15m.")], "warnings": [phrase(code("force=yes"), ": careful")],
           "buttons": [{"text": "Purge", "action_id": "guard_confirm", "value": "tok", "style": "danger",
                        "confirm": {"title": "Purge?", "text": "Delete 12 entries & archive them?",
                                    "confirm": "Purge", "deny": "Back"}},
                       {"text": "Cancel", "action_id": "guard_cancel", "value": "tok"}]}


def test_a_preview_reads_as_plain_text_with_numbered_choices():
    screen = render_text("guard_preview", PREVIEW, width=80)
    lines = screen.text.splitlines()
    assert lines[:2] == ["Purge 12 DLQ entries", "=" * len("Purge 12 DLQ entries")]
    assert "12 of `hyvve:dlq` & more go" in lines  # escaped nowhere, code spans marked
    assert "Selected:           12 of 30" in lines and "Fixed upper bound:  `9-0` (1970-01-01)" in lines
    assert "By type: `crm.contact.created` 12" in lines
    assert f"{glyph('caution')} `force=yes`: careful" in lines
    assert "  These buttons expire in 15m." in lines
    assert "[1] Purge  [2] Cancel" in lines
    assert screen.choices == [Choice("Purge", "guard_confirm", "tok", "Delete 12 entries & archive them?"),
                              Choice("Cancel", "guard_cancel", "tok")]
    assert not SLACK_MARKUP.search(screen.text) and "\033[" not in screen.text


def test_headers_are_bold_and_notes_dim_on_a_tty():
    text = render_text("guard_preview", PREVIEW, color=True, width=80).text
    assert "\033[1mPurge 12 DLQ entries\033[0m" in text and "\033[2m  These buttons expire in 15m.\033[0m" in text


def test_long_lines_wrap_to_the_width_and_tables_do_not():
    words = " ".join(f"word{i}" for i in range(40))
    text = layout(f"Label:  {words}\n  {words}\n{PRE}{'x' * 90}", width=50, color=False)
    lines = text.splitlines()
    assert all(len(line) <= 50 for line in lines if "x" * 90 not in line)
    assert lines[1].startswith(" " * len("Label:  ") + "word")  # a fact's value keeps its column
    assert "x" * 90 in lines  # a table line is never broken


def test_the_width_is_the_terminal_width(monkeypatch):
    monkeypatch.setenv("COLUMNS", "50")
    text = render_text("error", {"message": phrase("word " * 40), "hint": None}).text
    assert max(len(line) for line in text.splitlines()) <= 50


def test_one_symbol_table_for_every_status():
    for name, (slack, term) in SYMBOLS.items():
        assert slack.startswith(":") and slack.endswith(":") and term, name
    notice = Reply("guard_notice", {"message": phrase("Paused ", code("g")), "hint": None, "symbol": "paused",
                                    "buttons": []})
    assert render_reply_text(notice, width=80).text == f"{glyph('paused')} Paused `g`"
    assert glyph("no-such-status") == glyph("unknown")


def test_people_and_code_holding_backticks():
    text = render_text("error", {"message": phrase(person("U0BOB"), " ran ", code("a `b` c")), "hint": None},
                       width=80).text
    assert text.endswith("@U0BOB ran `` a `b` c ``")
    assert code_text("x") == "`x`"


def test_a_symbol_in_a_sentence_is_an_emoji_in_slack_a_glyph_here_and_nothing_in_plain_text():
    said = phrase(symbol("paused"), " Paused by ", person("U0BOB"))
    assert mrkdwn(said) == ":double_vertical_bar: Paused by <@U0BOB>"
    assert render_text("error", {"message": said, "hint": None}, width=80).text.endswith("[PAUSED] Paused by @U0BOB")
    assert plain(said) == "Paused by U0BOB"


def test_a_view_without_a_text_template_shows_its_plain_text():
    screen = render_reply_text(Reply("no_such_view", {}, "Plain fallback."), width=80)
    assert screen.text == "Plain fallback." and screen.choices == []


def test_a_text_template_failing_on_odd_data_is_one_sentence():
    screen = render_reply_text(Reply("guard_preview", {"title": "x"}, "x"), width=80)
    assert RENDER_FAILED in screen.text and "Traceback" not in screen.text


@pytest.mark.parametrize("command", ["health", "dlq", "dlq top", "dlq list", "dlq list 3 tenant=ws_acme", "groups",
                                     "events", "redis", "help", "alerts", "jobs", "audit", "approvals",
                                     "reprocess all", "dlq purge", "replay from=2h to=now", "trim 10",
                                     "pause", "nonsense"])
def test_every_real_answer_renders_without_slack_markup(bus, command):
    seed(bus)
    bus.settings = bus.settings.model_copy(update={"bus_operators": "console"})
    reply = router.run(command, manual_runtime(bus), "console")
    text = render_reply_text(reply, width=100).text
    assert text.strip() and RENDER_FAILED not in text, command
    assert not SLACK_MARKUP.search(text), (command, SLACK_MARKUP.search(text))


def test_repl_runs_commands_numbers_and_leaves(bus):
    seed(bus)
    out = io.StringIO()
    answers = iter(["n"])
    console = Console(manual_runtime(bus), out, read=lambda prompt: next(answers))
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
    assert Console(manual_runtime(bus), out, read=read, echo=True).loop() == 0
    assert "help\nbusbot: commands" in out.getvalue()
    assert next(lines) == "never read"


def test_terminal_escapes_and_bidi_overrides_in_values_never_reach_the_terminal():
    hostile = "evt\x1b]0;owned\x07\x1b[2J\u202egnp.exe"
    screen = render_text("error", {"message": phrase("Bad ", code(hostile)), "hint": hostile}, color=True)
    assert "\x1b]" not in screen.text and "\x1b[2J" not in screen.text and "\u202e" not in screen.text
    assert "evt]0;owned[2Jgnp.exe" in screen.text  # the rest of the value is shown


def test_a_choice_asks_its_confirmation_without_the_escape_sequences_of_a_value():
    button = {**PREVIEW["buttons"][0], "confirm": {**PREVIEW["buttons"][0]["confirm"], "text": "Purge \x1b[2Jx?"}}
    screen = render_text("guard_preview", {**PREVIEW, "buttons": [button]})
    assert screen.choices[0].confirm == "Purge [2Jx?"
