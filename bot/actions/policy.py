"""Who may do what, and which kinds of action need a second person.

Three roles, each a setting listing Slack user ids (`U…`/`W…`), user group ids (`S…`),
user group handles (`@oncall-platform`) or API token names (`api:<name>`):
- viewers (`BUS_VIEWERS`; empty: everyone) read;
- operators (`BUS_OPERATORS`) preview, confirm and request guarded actions;
- approvers (`BUS_APPROVERS`; empty: the operators) approve them, never their own request.
Operators and approvers read too. The kinds a second person approves are
`BUS_APPROVAL_REQUIRED` (default bulk reprocess, purge, replay and trim).

User groups are resolved through a `GroupDirectory` the runtime carries (bot/slack/groups.py
asks Slack); this module never talks to Slack itself. Every surface (Slack, console, API,
dashboard) asks `has_role()` the same question.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Protocol

from bot.settings import Settings

VIEWER, OPERATOR, APPROVER = "viewer", "operator", "approver"
ROLES = (VIEWER, OPERATOR, APPROVER)
_GROUP_ID = re.compile(r"S[A-Z0-9]{2,}")

# policy kind -> what the preview calls it
KINDS = {
    "reprocess_one": "reprocess one DLQ entry",
    "reprocess_bulk": "reprocess DLQ entries",
    "delete": "delete one DLQ entry",
    "purge": "purge DLQ entries",
    "restore": "restore purged DLQ entries",
    "replay": "replay events",
    "trim": "trim the main stream",
    "pause": "pause a consumer group",
    "resume": "resume a consumer group",
    "edit": "retry an edited DLQ entry",
}
ALWAYS_APPROVED = frozenset({"edit"})  # a second operator approves these whatever the settings say


@dataclass(frozen=True)
class Group:
    """A user group as the directory knows it; `stale` when Slack could not be asked and
    these are the members it last gave."""
    id: str
    handle: str
    users: frozenset[str]
    stale: bool = False


class GroupDirectory(Protocol):
    def group(self, entry: str, user: str | None = None) -> Group | None:
        """The group `entry` names (`S…` id or `@handle`), with members fresh enough for
        `user` (a miss may refresh them); None when it is unknown and cannot be read."""
        ...


class NoGroups:
    """No directory (the console, tests): group entries match nobody."""

    def group(self, entry: str, user: str | None = None) -> Group | None:
        return None


NO_GROUPS: GroupDirectory = NoGroups()
_current: ContextVar[GroupDirectory] = ContextVar("busbot_groups", default=NO_GROUPS)


@contextmanager
def groups_of(directory: GroupDirectory) -> Iterator[None]:
    """While a command or click is answered, checks deep inside it (a preview asking again
    whether its caller is an operator) use the runtime's directory without passing it on."""
    token = _current.set(directory)
    try:
        yield
    finally:
        _current.reset(token)


def current_groups() -> GroupDirectory:
    return _current.get()


def is_group_entry(entry: str) -> bool:
    return entry.startswith("@") or bool(_GROUP_ID.fullmatch(entry))


def entries(value: str) -> list[str]:
    return [e.strip() for e in value.split(",") if e.strip()]


def setting_of(settings: Settings, role: str) -> tuple[str, list[str]]:
    """(the setting that decides `role`, its entries); approvers fall back to the operators."""
    if role == APPROVER and not entries(settings.bus_approvers):
        return "BUS_OPERATORS", entries(settings.bus_operators)
    name = {VIEWER: "BUS_VIEWERS", OPERATOR: "BUS_OPERATORS", APPROVER: "BUS_APPROVERS"}[role]
    return name, entries(getattr(settings, name.lower()))


@dataclass(frozen=True)
class Grant:
    """Why someone holds a role: the setting, the entry in it, the group it went through."""
    role: str
    setting: str
    entry: str  # "" when the setting is empty and means everyone
    group: Group | None = None


@dataclass
class Check:
    """The answer to "does this user hold this role?" with what it was based on."""
    user: str
    role: str
    grant: Grant | None
    stale: list[str] = field(default_factory=list)  # groups answered from their last known members
    unread: list[str] = field(default_factory=list)  # groups that could not be read at all

    def __bool__(self) -> bool:
        return self.grant is not None

    @property
    def note(self) -> str | None:
        """One sentence when Slack could not be asked about a group, else None."""
        parts = []
        if self.stale:
            parts.append(f"Slack's user groups could not be read just now, so busbot used the members it "
                         f"last knew of {', '.join(self.stale)}.")
        if self.unread:
            parts.append(f"busbot could not read {', '.join(self.unread)} from Slack and knows no members "
                         "of it yet.")
        return " ".join(parts) or None


def _match(directory: GroupDirectory, user: str, entry: str, stale: list[str],
           unread: list[str]) -> tuple[bool, Group | None]:
    if entry == user:
        return True, None
    if not is_group_entry(entry) or user.startswith("api:"):  # tokens are never in Slack groups
        return False, None
    group = directory.group(entry, user)
    if group is None:
        if directory is not NO_GROUPS:
            unread.append(entry)
        return False, None
    if group.stale:
        stale.append(entry)
    return user in group.users, group


def has_role(settings: Settings, directory: GroupDirectory, user: str, role: str) -> Check:
    """Whether `user` holds `role`, and through which entry. Viewers include the operators
    and approvers; an empty `BUS_VIEWERS` means everyone."""
    stale: list[str] = []
    unread: list[str] = []
    roles = (role,) if role != VIEWER else (VIEWER, OPERATOR, APPROVER)
    for r in roles:
        name, listed = setting_of(settings, r)
        if r == VIEWER and not listed:
            return Check(user, role, Grant(VIEWER, name, ""))
        for entry in listed:
            ok, group = _match(directory, user, entry, stale, unread)
            if ok:
                return Check(user, role, Grant(r, name, entry, group), stale, unread)
    return Check(user, role, None, stale, unread)


def roles_of(settings: Settings, directory: GroupDirectory, user: str) -> list[Check]:
    """Every role, each with how it is held (or not): what `/bus whoami` shows."""
    out = []
    for role in ROLES:
        stale: list[str] = []
        unread: list[str] = []
        name, listed = setting_of(settings, role)
        grant = Grant(role, name, "") if role == VIEWER and not listed else None
        for entry in listed if grant is None else ():
            ok, group = _match(directory, user, entry, stale, unread)
            if ok:
                grant = Grant(role, name, entry, group)
                break
        out.append(Check(user, role, grant, sorted(set(stale)), sorted(set(unread))))
    if out[0].grant is None:  # operators and approvers read too
        held = next((c.grant for c in out[1:] if c.grant), None)
        if held is not None:
            out[0].grant = held
    return out


def how_to_get(settings: Settings, role: str) -> tuple[str, list[str]]:
    """(the setting to be added to, the groups in it one may ask to join)."""
    name, listed = setting_of(settings, role)
    return name, [e for e in listed if is_group_entry(e)]


def role_name(settings: Settings, role: str) -> str:
    """How a refusal names the role: approvers are "operators" while BUS_APPROVERS is empty."""
    return {VIEWER: "viewers", OPERATOR: "operators"}.get(role, "approvers" if entries(settings.bus_approvers)
                                                           else "operators")


def is_operator(settings: Settings, user_id: str, directory: GroupDirectory | None = None) -> bool:
    return bool(has_role(settings, directory or current_groups(), user_id, OPERATOR))


def is_approver(settings: Settings, user_id: str, directory: GroupDirectory | None = None) -> bool:
    return bool(has_role(settings, directory or current_groups(), user_id, APPROVER))


def needs_approval(settings: Settings, kind: str) -> bool:
    return kind in ALWAYS_APPROVED or kind in settings.approval_required
