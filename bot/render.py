"""View model -> Block Kit, through `templates/<name>.json.j2`.

Templates render JSON with `tojson` and no HTML autoescape; user text goes through the
`md` filter (mrkdwn escaping of &, <, >). Texts are clipped to Slack's limits here so a long
error message can never make Slack refuse a reply.
"""
from __future__ import annotations

import json
import logging
import re
import shlex
from functools import lru_cache
from pathlib import Path

import jinja2

import templates
from bot.phrase import render_parts
from bot.plural import plural
from bot.symbols import slack_emoji
from bot.texttable import table
from bot.timeparse import human_age, iso_ms

log = logging.getLogger(__name__)

MAX_BLOCKS = 50


# bidi overrides and isolates (U+202A-U+202E, U+2066-U+2069) and control characters other
# than newline and tab: they can make a shown value read differently from what it is
_INVISIBLE = re.compile("[\u202a-\u202e\u2066-\u2069\x00-\x08\x0b-\x1f\x7f-\x9f]")
_BARE_AMP = re.compile(r"&(?!(?:amp|lt|gt);)")


def displayable(text) -> str:
    """`text` without bidi overrides and control characters (newline and tab stay)."""
    return _INVISIBLE.sub("", str(text if text is not None else ""))


def md(text) -> str:
    """Escape text for Slack mrkdwn (and drop bidi overrides and control characters)."""
    return displayable(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def fallback_text(text, limit: int = 3000) -> str:
    """A message's top-level `text` (what notifications show): escaped like the blocks, so a
    value such as `<!channel>` never pings. Idempotent: text built from escaped parts stays
    as it is."""
    safe = _BARE_AMP.sub("&amp;", displayable(text)).replace("<", "&lt;").replace(">", "&gt;")
    return clip(safe, limit)


def _scrubbed(value):
    """Every string in a rendered message without bidi overrides and control characters."""
    if isinstance(value, str):
        return displayable(value)
    if isinstance(value, list):
        return [_scrubbed(v) for v in value]
    if isinstance(value, dict):
        return {k: _scrubbed(v) for k, v in value.items()}
    return value


def clip(text, limit: int) -> str:
    text = str(text if text is not None else "")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def num(value) -> str:
    if value is None:
        return "unknown"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"


_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")


def code_span(text) -> str:
    """A code span for mrkdwn: it cannot hold a backtick, so a backtick inside becomes ˋ."""
    inner = md(str(text)).replace("`", "ˋ").replace("\n", " ")
    return f"`{inner}`" if inner.strip() else "–"


def mention(user_id) -> str:
    """A Slack user id as a mention; a console name as escaped text."""
    user_id = str(user_id or "nobody")
    return f"<@{user_id}>" if _SLACK_USER.match(user_id) else md(user_id)


def mrkdwn(value) -> str:
    """A phrase (see bot.phrase) as mrkdwn: text escaped, code spans and users formatted."""
    return render_parts(value, md, code_span, mention, slack_emoji)


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(templates.__file__).parent),
                             autoescape=False, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    env.filters.update(shquote=shlex.quote, md=md, mrkdwn=mrkdwn, code=code_span, mention=mention,
                       clip=clip, num=num, age=human_age, iso=iso_ms, emoji=slack_emoji,
                       plural=plural)
    env.globals["table"] = table
    return env


def strip_trailing_commas(text: str) -> str:
    """Drop commas that stand right before `]` or `}` outside strings, so templates can end
    every block with a comma whatever follows (conditional blocks, loops)."""
    out: list[str] = []
    in_string = escaped = False
    pending = None  # index in `out` of a comma that may turn out to be trailing
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "]}" and pending is not None:
            out[pending] = ""
        if not ch.isspace():
            pending = len(out) if ch == "," and not in_string else None
        out.append(ch)
    return "".join(out)


def render(template: str, context: dict, max_blocks: int = MAX_BLOCKS) -> dict:
    """Render `templates/<template>.json.j2` -> {"blocks": [...], "text": "..."}; a message
    holds at most 50 blocks, a view (the App Home) 100."""
    out = environment().get_template(f"{template}.json.j2").render(**context)
    try:
        message = json.loads(strip_trailing_commas(out))
    except ValueError as exc:  # a template bug: say which template, keep the output for the log
        raise ValueError(f"template {template} produced invalid JSON: {exc}\n{out[:2000]}") from None
    if len(message.get("blocks", [])) > max_blocks:
        raise ValueError(f"template {template} produced {len(message['blocks'])} blocks (max {max_blocks})")
    message = _scrubbed(message)
    if "text" in message:
        message["text"] = fallback_text(message["text"])
    return message


def with_badge(message: dict, env: dict) -> dict:
    """`message` with its environment's badge (bot/environments.py) as its first line."""
    blocks = message.setdefault("blocks", [])
    if len(blocks) >= MAX_BLOCKS:
        blocks.pop()  # the last block (usually a context line) gives way to the environment
    blocks.insert(0, {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(env["slack"], 3000)}]})
    if not str(message.get("text", "")).startswith(env["text"]):
        message["text"] = fallback_text(f"{env['text']} {message.get('text', '')}")
    return message


RENDER_FAILED = "busbot could not display that answer (a template error); it is logged."


def render_reply(reply) -> dict:
    """A `commands.reply.Reply` -> Slack message body (blocks + fallback text).

    A template that fails on unexpected data is a bug: it is logged with its trace and the
    user gets one sentence, in Slack and in the console alike."""
    try:
        message = render(reply.template, {**reply.context, "command": reply.command})
    except Exception:  # the rendering boundary, as commands.router is the command one
        log.exception("rendering %s for %r failed", reply.template, reply.command)
        message = render("error", {"message": RENDER_FAILED, "hint": "Try another view of the same data, "
                                   "or tell the busbot maintainers."})
        message["text"] = RENDER_FAILED
        return message
    message["text"] = fallback_text(reply.text or message.get("text") or "busbot")
    env = reply.context.get("env_badge")  # several environments: the first line names this one
    if env:
        with_badge(message, env)
    note = reply.context.get("role_note")  # under the answer: roles from last known members, unmasked values
    if note and len(message.get("blocks", [])) < MAX_BLOCKS:
        message["blocks"].append({"type": "context", "elements": [{"type": "mrkdwn", "text": clip(md(note), 3000)}]})
    return message
