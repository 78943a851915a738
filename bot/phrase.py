"""A sentence as plain data, so every renderer (Slack, terminal, HTML, JSON) formats it
its own way: a list of parts, each plain text, a code span, a user or a status symbol.

    phrase("Job ", code("j1"), " was approved by ", person("U2"), ".")
    -> ["Job ", {"code": "j1"}, " was approved by ", {"user": "U2"}, "."]

No markup anywhere: renderers escape plain text and decide how a code span or a user looks.
A bare string is a phrase of one plain part (old stored data, simple messages).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeAlias

Part: TypeAlias = "str | dict[str, str]"
Phrase: TypeAlias = "list[Part]"
PhraseLike: TypeAlias = "str | Phrase | dict[str, str] | None"


def code(text: object) -> dict[str, str]:
    """A literal the reader may type or look for: an id, a stream, a command."""
    return {"code": str(text)}


def person(user_id: str | None) -> dict[str, str]:
    """Who did something: a Slack user id (shown as a mention in Slack) or a console name."""
    return {"user": str(user_id or "nobody")}


def symbol(name: str) -> dict[str, str]:
    """A status symbol (a name of bot.symbols): an emoji in Slack, a glyph in a terminal."""
    return {"symbol": name}


def phrase(*parts: PhraseLike) -> Phrase:
    """Join parts (strings, code spans, users, other phrases) into one phrase; adjacent
    strings merge and empty ones go."""
    out: Phrase = []
    for part in parts:
        for p in parts_of(part):
            if isinstance(p, str):
                if not p:
                    continue
                if out and isinstance(out[-1], str):
                    out[-1] += p
                    continue
            out.append(p)
    return out


def parts_of(value: PhraseLike) -> Phrase:
    if value is None:
        return []
    if isinstance(value, (str, dict)):
        return [value]
    return list(value)


def render_parts(value: PhraseLike, text: Callable[[str], str], code_span: Callable[[str], str],
                 user: Callable[[str], str], mark: Callable[[str], str]) -> str:
    """A phrase through a renderer's formatter for each kind of part: plain text, a code
    span, a user, a symbol (Slack mrkdwn, terminal text and plain text differ only there)."""
    out = []
    for p in parts_of(value):
        if isinstance(p, str):
            out.append(text(p))
        elif "code" in p:
            out.append(code_span(p["code"]))
        elif "user" in p:
            out.append(user(p["user"]))
        elif "symbol" in p:
            out.append(mark(p["symbol"]))
    return "".join(out)


def join(items: Sequence[PhraseLike], sep: str = ", ") -> Phrase:
    out: list[PhraseLike] = []
    for i, item in enumerate(items):
        if i:
            out.append(sep)
        out.append(item)
    return phrase(*out)


def plain(value: PhraseLike) -> str:
    """The phrase as plain text (fallback texts, logs): code spans and users as they are,
    symbols left out."""
    return render_parts(value, str, str, str, lambda _: "").strip()


def fact(label: str, *value: PhraseLike) -> dict:
    """A label/value pair of a preview or a notice."""
    return {"label": label, "value": phrase(*value)}
