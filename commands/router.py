"""The one boundary between text and commands, and between errors and the user.

`run()` never raises: a user mistake becomes a usage reply, Redis down (or its ACL refusing
a command) becomes one sentence, anything else is logged with its trace and the user gets a plain apology.
"""
from __future__ import annotations

import difflib
import logging
import re

from bot.actions import policy
from bot.bus import Bus
from bot.environments import badge, prefixed, split_target
from bot.phrase import PhraseLike, code, join, phrase, plain
from bot.redis_errors import describe, is_refused, is_unavailable, refusal
from bot.runtime import Runtime
from commands import (
    button_values,
    catalog,  # noqa: F401  (registers every command)
)
from commands.actions import ACTION_ROLES, ACTIONS, OPERATOR_ACTIONS, ActionCall, action
from commands.args import split_args, tokenize
from commands.guard import refuse
from commands.invocation import Invocation
from commands.registry import REGISTRY, Command
from commands.reply import CommandError, Reply, UsageError

log = logging.getLogger(__name__)
BOUND = re.compile(r"^@([a-z][a-z0-9-]*) ")  # a button value bound to an environment


def _strip_prefix(text: str) -> str:
    text = (text or "").strip()
    if text.lower().startswith("/bus"):
        text = text[4:].strip()
    return text


def suggest(words: list[str]) -> str | None:
    """The registered command nearest to what was typed, for "did you mean"."""
    names = [c.name for c in REGISTRY.all()]
    typed = " ".join(words[:2]).lower()
    for candidate in (typed, typed.split(" ")[0]):
        close = difflib.get_close_matches(candidate, names, n=1, cutoff=0.6)
        if close:
            return close[0]
    return None


def resolve(words: list[str]) -> tuple[Command, list[str]]:
    command, rest = REGISTRY.match(words)
    if command is None:
        near = suggest(words)
        hint = phrase("Did you mean ", code(f"/bus {near}"), "? ") if near else None
        raise CommandError(phrase(code(" ".join(words[:2])), " is not a busbot command."),
                           phrase(hint, "Type ", code("/bus help"), " for the list."))
    return command, rest


def _check(inv: Invocation) -> None:
    cmd = inv.command
    unknown = sorted(set(inv.args.options) - cmd.options)
    if unknown:
        allowed = join([code(f"{o}=") for o in sorted(cmd.options)]) or phrase("no options")
        raise inv.usage_error(phrase(code(f"{unknown[0]}="), " is not an option of ", code(cmd.name),
                                     " (it takes ", allowed, ")."))
    if len(inv.args.positional) > cmd.max_positional:
        extra = inv.args.positional[cmd.max_positional]
        near = suggest([*cmd.path, extra]) if REGISTRY.children(cmd.path[0])[1:] else None
        if near and near != cmd.name:
            nearest = REGISTRY.match(near.split())[0]  # its usage, not the usage of what was typed
            raise UsageError(phrase(code(f"{cmd.name} {extra}"), " is not a busbot command. Did you mean ",
                                    code(f"/bus {near}"), "?"), nearest.usage if nearest else cmd.usage)
        raise inv.usage_error(phrase(code(cmd.name), " does not take ", code(extra), " here."))


def run(text: str, rt: Runtime, user_id: str = "console", channel: str | None = None) -> Reply:
    """`rt`: the runtime of the environment the text runs in unless it names one (`@staging`,
    `env=staging`) or `channel` has a default environment."""
    target, text = pick_environment(_strip_prefix(text), rt, channel)
    if isinstance(target, Reply):
        return target
    rt = target
    with policy.groups_of(rt.groups):
        reply = _guarded(rt.bus, text, lambda: _run_command(text, rt, user_id), command=text)
    reply.command = reply.command or text
    return mark_environment(reply, rt)


def pick_environment(text: str, rt: Runtime, channel: str | None = None) -> tuple[Runtime | Reply, str]:
    """The runtime `text` runs in and the text without the environment's name; an unknown
    name is a reply listing the known ones."""
    name, rest = split_target(text)
    envs = rt.envs
    if envs is None:
        if name is not None and name != rt.environment:
            return error_reply(f"There is no environment named {name!r}; this busbot knows {rt.environment!r}.",
                               "Leave the environment out."), rest
        return rt, rest
    if name is not None:
        picked = envs.get(name) if name else None
        if picked is None:
            example = code(f"/bus @{envs.default} {rest or 'health'}")
            return error_reply(envs.unknown(name), phrase("For example ", example, ".")), rest
        return picked, rest
    return (envs.for_channel(channel) if channel else None) or rt, rest


def mark_environment(reply: Reply, rt: Runtime) -> Reply:
    """With several environments: the reply's first line names its environment, and every
    button (and "Post to channel") is bound to it, so a click can never act on another."""
    if rt.envs is None or not rt.envs.multi:
        return reply
    name, room = rt.environment, len(rt.environment) + 2  # "@name " before every value
    reply.context["env_badge"] = badge(name, rt.protected)
    try:
        _bind_buttons(rt.bus, reply.context, name, room)
        if reply.shareable and reply.command:  # "Post to channel" runs it again, in this environment
            shared = reply.context.get("share_value") or button_values.keep(rt.bus, reply.command, room)
            reply.context["share_value"] = prefixed(name, shared)
    except Exception:  # noqa: BLE001 - no buttons rather than buttons that act elsewhere
        log.warning("could not bind a reply's buttons to %s; the reply goes out without buttons", name)
        reply.shareable = False
        reply.context.pop("buttons", None)
    return reply


def _bind_buttons(bus: Bus, context, name: str, room: int) -> None:
    if isinstance(context, list):
        for item in context:
            _bind_buttons(bus, item, name, room)
    elif isinstance(context, dict):
        value = context.get("value")
        if isinstance(context.get("action_id"), str) and isinstance(value, str):
            if context["action_id"] in button_values.RERUN_ACTIONS and not value.startswith(button_values.PREFIX):
                # command text, kept in Redis if it is too long with the environment's name
                value = button_values.keep(bus, value, room)
            context["value"] = prefixed(name, value)
        for key, item in context.items():
            if key != "env_badge" and isinstance(item, (list, dict)):
                _bind_buttons(bus, item, name, room)


def is_read_only(text: str) -> bool:
    """True when `text` names a read-only command (False for anything that does not parse:
    such text is answered in-process, where the error reply costs nothing)."""
    try:
        command, _ = resolve(tokenize(_strip_prefix(text)) or ["help"])
    except CommandError:
        return False
    return command.read_only


def run_action(action_id: str, value: str, rt: Runtime, user_id: str, channel: str | None = None) -> Reply:
    """A button click; unknown action ids (an old message after an upgrade) get a sentence.
    `channel`: the Slack channel it was clicked in (approvals count only where they were
    asked); None for the console, the dashboard and the API, which check their callers."""
    handler = ACTIONS.get(action_id)
    if handler is None:
        return error_reply("That button belongs to an older busbot message and no longer does anything.",
                           "Run the command again.")
    target, value = _action_environment(value, rt, channel)
    if isinstance(target, Reply):
        return target
    rt = target
    bus = rt.bus
    with policy.groups_of(rt.groups):
        # one check for every button: operator (or approver) buttons, and reading for the rest
        role = ACTION_ROLES.get(action_id, policy.OPERATOR if action_id in OPERATOR_ACTIONS else policy.VIEWER)
        check = policy.has_role(bus.settings, rt.groups, user_id, role)
        if not check:
            reply = refuse(bus, user_id, OPERATOR_ACTIONS.get(action_id, "use busbot's buttons"), role, check)
        else:
            reply = _guarded(bus, f"action {action_id}",
                             lambda: handler(ActionCall(rt, action_id, value, user_id, channel)))
    return mark_environment(reply, rt)


def _action_environment(value: str, rt: Runtime, channel: str | None) -> tuple[Runtime | Reply, str]:
    """A button's environment is the `@name ` its value starts with (a button made with one
    environment); a value without one (a form, the App Home, an older message) runs where
    the channel's default, or `rt`, says."""
    envs = rt.envs
    m = BOUND.match(value or "")
    if m is None or envs is None:
        return (envs.for_channel(channel) if envs is not None and channel else None) or rt, value
    picked = envs.get(m.group(1))
    if picked is None:
        return error_reply(f"This button was made for the environment {m.group(1)!r}, which this busbot no "
                           f"longer serves (it knows {', '.join(envs.names)}), so nothing ran.",
                           "Run the command again."), value
    return picked, value[m.end():]


def _run_command(text: str, rt: Runtime, user_id: str) -> Reply:
    words = tokenize(text) or ["help"]
    command, rest = resolve(words)
    inv = Invocation(rt, command, split_args(rest), user_id, text)
    bus = rt.bus
    _check(inv)
    role = command_role(command)
    if role is not None:  # one check for every command: viewers read, operators act
        check = policy.has_role(bus.settings, rt.groups, user_id, role)
        if not check and command.name in REVIEW_COMMANDS:  # approvers list what waits for them
            check = policy.has_role(bus.settings, rt.groups, user_id, policy.APPROVER) or check
        if not check:
            return refuse(bus, user_id, phrase("run ", code(f"/bus {command.name}")), role, check)
        reply = command.handler(inv)
        if check.note:  # allowed on the members Slack last gave: say so
            reply.context.setdefault("role_note", check.note)
        return reply
    return command.handler(inv)


REVIEW_COMMANDS = frozenset({"approvals", "approval"})  # operators, and approvers who are not operators


def command_role(command: Command) -> str | None:
    """The role a command needs: none for help and whoami (so anyone can find out how to get
    one), the operator role for guarded commands, the viewer role for everything else."""
    if command.group == "Help":
        return None
    return policy.OPERATOR if command.role == "operator" else policy.VIEWER


def error_reply(message: PhraseLike, hint: PhraseLike = None) -> Reply:
    return Reply("error", {"message": phrase(message), "hint": phrase(hint) if hint else None},
                 plain(message), shareable=False)


def _keep_button_values(bus: Bus, reply: Reply, command: str | None) -> Reply:
    """Button values too long for Slack go to Redis behind a token, never clipped."""
    try:
        button_values.keep_long_values(bus, reply.context)
        shared = reply.command or command or ""
        if len(shared) > button_values.MAX_VALUE:
            reply.context["share_value"] = button_values.keep(bus, shared)
    except Exception:  # noqa: BLE001 - no buttons rather than buttons that run something else
        log.warning("could not keep a long button value; the reply goes out without buttons")
        reply.shareable = False
        reply.context.pop("buttons", None)
    return reply


def _guarded(bus: Bus, what: str, fn, command: str | None = None) -> Reply:
    try:
        return _keep_button_values(bus, fn(), command)
    except CommandError as exc:
        return error_reply(exc.message, exc.hint)
    except Exception as exc:  # the one place an error becomes a sentence instead of a trace
        if is_unavailable(exc):  # unreachable, or it refuses busbot's password
            sentence, hint = describe(exc, bus.where)
            log.warning("redis at %s failed while running %r: %s", bus.where, what, sentence)
            return error_reply(sentence, hint)
        if is_refused(exc):  # Redis's ACL refused busbot's user a command or key (NOPERM)
            sentence, hint = refusal(exc)
            log.warning("redis at %s refused %r: %s", bus.where, what, exc)
            return error_reply(sentence, hint)
        log.exception("command failed: %r", what)
        msg = "busbot hit an internal error running that command; it is logged."
        return error_reply(msg, "Try again, or tell the busbot maintainers.")


def button_command(call: ActionCall) -> str:
    """The command text behind a rerun button (kept in Redis when it was too long)."""
    text = button_values.command_of(call.bus, call.value)
    if text is None:
        raise CommandError("That button is too old: the command behind it is no longer kept.",
                           "Run the command again.")
    return text


@action("bus_run")
def _rerun(call: ActionCall) -> Reply:
    """Paging and "show" buttons: the value is command text; the answer replaces the message."""
    reply = run(button_command(call), call.rt, call.user_id)
    reply.replaces = True
    return reply


@action("bus_share")
def _share(call: ActionCall) -> Reply:
    """"Post to channel": run the same command again and post it for everyone. Only a
    read-only command: a guarded one would otherwise run with the clicker's rights."""
    text = button_command(call)
    if not is_read_only(text):
        log.warning("refused to share %r for %s: not a read-only command", text[:200], call.user_id)
        return error_reply("Only answers of read-only commands can be posted to the channel, "
                           "so this button did nothing.", "Run the command yourself to see its answer.")
    if "unmask" in split_args(tokenize(text)).options:  # raw values never go to a channel
        log.warning("refused to share %r for %s: unmasked values", text[:200], call.user_id)
        return error_reply("Unmasked answers cannot be posted to the channel, so this button did nothing.",
                           "Post the answer without unmask=yes: its personal data is masked.")
    reply = run(text, call.rt, call.user_id)
    reply.visibility, reply.shareable = "channel", False
    reply.context["shared_by"] = call.user_id
    return reply
