"""View model -> terminal text, through `templates/text/<name>.txt.j2`: the console renders
the same data as Slack, formatted for a terminal, never by reading Slack markup back.

Templates write plain lines and may start a line with a marker the layout step acts on:
`PRE` keeps it as it is (tables, JSON), `DIM` shows it dimmed (side notes), `HEAD` in bold.
Every other line is wrapped to the terminal's width, continuation lines indented like the
first. Buttons become numbered choices (`[1] Older`) that the REPL can run. ANSI styling
only when asked for (the caller passes `color=stdout.isatty()`).
"""
from __future__ import annotations

import logging
import re
import shutil
import textwrap
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

import templates
from bot.phrase import PhraseLike, render_parts
from bot.plural import plural
from bot.render import RENDER_FAILED, clip, displayable, num
from bot.symbols import glyph
from bot.texttable import table
from bot.timeparse import human_age, iso_ms

log = logging.getLogger(__name__)

PRE, DIM, HEAD = "\x01", "\x02", "\x03"
MIN_WIDTH, MAX_WIDTH = 40, 120
_BOLD, _DIM, _RESET = "\033[1m", "\033[2m", "\033[0m"
_ANSI = re.compile(r"\033\[[0-9;]*m")
_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")


@dataclass(frozen=True)
class Choice:
    """A button of the last answer: what the REPL runs when its number is typed."""
    label: str
    action_id: str
    value: str
    confirm: str | None = None  # the confirm dialog's text, asked before running


@dataclass
class Screen:
    text: str
    choices: list[Choice] = field(default_factory=list)


def terminal_width() -> int:
    return max(MIN_WIDTH, min(MAX_WIDTH, shutil.get_terminal_size((80, 24)).columns))


def code_text(text: object) -> str:
    """A code span in a terminal: between backticks (doubled when it holds one)."""
    text = str(text).replace("\n", " ")
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def person_text(user_id: object) -> str:
    user_id = str(user_id or "nobody")
    return "@" + user_id if _SLACK_USER.match(user_id) else user_id


def phrase_text(value: PhraseLike) -> str:
    """A phrase (bot.phrase) as terminal text."""
    return render_parts(value, str, code_text, person_text, glyph)


def pre(text: str) -> str:
    """Lines kept as they are (a table, JSON), each marked for the layout step."""
    return "\n".join(PRE + line for line in str(text).splitlines())


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(templates.__file__).parent / "text"),
                             autoescape=False, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False)
    env.filters.update(p=phrase_text, code=code_text, person=person_text, glyph=glyph, num=num,
                       age=human_age, iso=iso_ms, plural=plural, clip=clip, pre=pre)
    env.globals.update(table=lambda *a, **k: pre(table(*a, **k)), PRE=PRE, DIM=DIM, HEAD=HEAD)
    return env


class _Chooser:
    """Numbers the buttons a template shows, and remembers them for the REPL."""

    def __init__(self) -> None:
        self.choices: list[Choice] = []

    def __call__(self, button: dict, label: bool = True) -> str:
        """`[n] Label` (or `[n]` alone, when the line around it says what it does)."""
        confirm = button.get("confirm")
        self.choices.append(Choice(button["text"], button["action_id"], button.get("value", ""),
                                   displayable(confirm.get("text")) if confirm else None))
        n = len(self.choices)
        return f"[{n}] {button['text']}" if label else f"[{n}]"


_FACT = re.compile(r"^[^:]{1,40}:\s{2,}")  # "Label:   value": continuation lines align with the value


def _wrap(line: str, width: int) -> list[str]:
    fact = _FACT.match(line)
    indent = len(fact.group(0)) if fact and len(fact.group(0)) < width // 2 else len(line) - len(line.lstrip(" "))
    return textwrap.wrap(line, width, subsequent_indent=" " * indent, break_long_words=False,
                         break_on_hyphens=False) or [""]


def layout(text: str, width: int, color: bool) -> str:
    """Wrap and style the marked lines a text template produced; control characters and bidi
    overrides inside them are dropped, so only this function's styling reaches the terminal."""
    out: list[str] = []
    for raw in text.splitlines():
        marker = raw[:1] if raw[:1] in (PRE, DIM, HEAD) else ""
        line = displayable(raw[1:] if marker else raw)  # no escape sequence or bidi override of a value
        if marker == PRE:
            out.append(line.rstrip())
            continue
        lines = _wrap(line.rstrip(), width)
        if color and marker == DIM:
            lines = [f"{_DIM}{w}{_RESET}" for w in lines]
        elif color and marker == HEAD:
            lines = [f"{_BOLD}{w}{_RESET}" for w in lines]
        out += lines
    while out and not out[-1].strip():
        out.pop()
    return "\n".join(_squeeze(out))


def _squeeze(lines: list[str]) -> list[str]:
    """No two blank lines in a row."""
    out: list[str] = []
    for line in lines:
        if not line.strip() and out and not out[-1].strip():
            continue
        out.append(line)
    return out


def render_text(template: str, context: dict[str, Any], color: bool = False,
                width: int | None = None) -> Screen:
    """A view model (a reply's template name and context) -> text for a terminal and the
    choices it offers. A view with no text template shows its plain fallback text."""
    width = width or terminal_width()
    chooser = _Chooser()
    try:
        tpl = environment().get_template(f"{template}.txt.j2")
    except jinja2.TemplateNotFound:
        log.warning("no text template for %s; showing its fallback text", template)
        return Screen(layout(str(context.get("__text__") or ""), width, color))
    try:
        text = tpl.render(**context, choose=chooser, width=width)
    except Exception:  # the console's rendering boundary, as bot.render's is Slack's
        log.exception("rendering the text of %s failed", template)
        return Screen(layout(f"{glyph('error')} {RENDER_FAILED}", width, color))
    return Screen(layout(text, width, color), chooser.choices)


def render_reply_text(reply, color: bool = False, width: int | None = None) -> Screen:
    """A `commands.reply.Reply` -> Screen."""
    context = {**reply.context, "command": reply.command, "__text__": reply.text}
    screen = render_text(reply.template, context, color, width)
    env = reply.context.get("env_badge")  # several environments: the first line names this one
    if env:
        screen.text = env["text"] + "\n" + screen.text
    note = reply.context.get("role_note")  # under the answer: roles from last known members, unmasked values
    if note:
        screen.text = screen.text.rstrip("\n") + "\n" + note + "\n"
    return screen


def visible_len(text: str) -> int:
    return len(_ANSI.sub("", text))


