"""Several environments (prod, staging, an EU region...) served by one busbot process.

`BUS_ENVIRONMENTS=prod=rediss://...,staging=redis://...` names them; unset, `REDIS_URL` is
the one environment, named by `BUS_ENVIRONMENT_NAME` (default `default`). Every environment
shares the settings, except those a `BUS_<NAME>_<SETTING>` variable overrides for it
(`BUS_PROD_DLQ_WARN=50`). Each one gets its own `Settings`, Bus, job runner, alert checks and
outbox: one `Runtime` per environment, kept here by name.

A command picks its environment with a leading `@name` or an `env=name` anywhere in its text;
without one, the channel's default (`BUS_CHANNEL_ENVIRONMENTS=C0123=prod,...`) or the
first environment listed. Environments in `BUS_PROTECTED_ENVIRONMENTS` are marked as such and
every destructive action there needs a second operator's approval.
"""
from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from bot.settings import APPROVAL_KINDS, Settings, SettingsError, check_redis_url, shown_value

if TYPE_CHECKING:
    from bot.runtime import Runtime

NAME = re.compile(r"[a-z][a-z0-9-]{0,31}")
DEFAULT = "default"
_PREFIX = re.compile(r"^@([A-Za-z0-9-]+)(?:\s+|$)")
_OPTION = re.compile(r"(?:^|\s)env=(\S*)")
# settings an environment cannot override: they belong to the process (Slack, HTTP, the API)
PROCESS_WIDE = frozenset({"slack_bot_token", "slack_signing_secret", "slack_app_token", "slack_api_url",
                          "redis_url", "port", "bus_api_tokens", "bus_dashboard_secret",
                          "bus_dashboard_trusted_header", "bus_dashboard_trusted_proxies",
                          "bus_environment_name"})
ENV_VARIABLES = ("BUS_ENVIRONMENTS", "BUS_CHANNEL_ENVIRONMENTS", "BUS_PROTECTED_ENVIRONMENTS")


def env_var_stem(name: str) -> str:
    """`BUS_PROD_` for `prod`, `BUS_EU_WEST_` for `eu-west`: the prefix of its overrides."""
    return f"BUS_{name.upper().replace('-', '_')}_"


def parse_environments(raw: str) -> dict[str, str]:
    """`name=url,...` -> {name: url} in the order given; SettingsError naming BUS_ENVIRONMENTS."""
    out: dict[str, str] = {}
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        name, eq, url = part.partition("=")
        name = name.strip().lower()
        if not eq or not NAME.fullmatch(name):
            raise SettingsError(f"BUS_ENVIRONMENTS: {shown_value(part)} is not name=redis-url with a name of "
                                "lower-case letters, digits and dashes; write it as prod=rediss://...,"
                                "staging=redis://...")
        if name in out:
            raise SettingsError(f"BUS_ENVIRONMENTS: the environment {name!r} is named twice; give each one "
                                "once.")
        try:
            checked = check_redis_url(url)
        except ValueError as exc:
            raise SettingsError(f"BUS_ENVIRONMENTS: the URL of {name!r} {exc}.") from None
        if checked is None:
            raise SettingsError(f"BUS_ENVIRONMENTS: {name!r} has no Redis URL; write it as {name}=redis://...")
        out[name] = checked
    if not out:
        raise SettingsError("BUS_ENVIRONMENTS is set but names no environment; write it as "
                            "prod=rediss://...,staging=redis://..., or unset it to use REDIS_URL.")
    return out


def parse_channels(raw: str, names: Iterable[str]) -> dict[str, str]:
    """`C0123=prod,...` -> {channel: env}; SettingsError naming BUS_CHANNEL_ENVIRONMENTS."""
    known, out = list(names), {}
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        channel, eq, name = (s.strip() for s in part.partition("="))
        if not eq or not channel or not name:
            raise SettingsError(f"BUS_CHANNEL_ENVIRONMENTS: {part!r} is not channel=environment; write it as "
                                "C0123=prod,C0456=staging.")
        if name.lower() not in known:
            raise SettingsError(f"BUS_CHANNEL_ENVIRONMENTS: {name!r} (for {channel}) is not an environment; "
                                f"known: {', '.join(known)}.")
        out[channel] = name.lower()
    return out


def parse_protected(raw: str, names: Iterable[str]) -> frozenset[str]:
    known = list(names)
    out = set()
    for name in (p.strip().lower() for p in raw.split(",")):
        if not name:
            continue
        if name not in known:
            raise SettingsError(f"BUS_PROTECTED_ENVIRONMENTS: {name!r} is not an environment; "
                                f"known: {', '.join(known)}.")
        out.add(name)
    return frozenset(out)


def _overrides(name: str, environ: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """{setting field: (variable, value)} of the `BUS_<NAME>_...` variables of one environment."""
    stem = env_var_stem(name)
    fields = {f for f in Settings.model_fields if f not in PROCESS_WIDE}
    out = {}
    for var, value in environ.items():
        upper = var.upper()
        if not upper.startswith(stem):
            continue
        rest = upper[len(stem):].lower()
        for candidate in (f"bus_{rest}", rest):  # BUS_PROD_DLQ_WARN and BUS_PROD_BUS_DLQ_WARN
            if candidate in fields:
                out[candidate] = (upper, value)
                break
    return out


def override_variables(environ: Mapping[str, str] | None = None) -> set[str]:
    """The per-environment variables that are valid overrides (unknown-variable warnings skip
    them), plus the environment variables themselves."""
    env = os.environ if environ is None else environ
    out = {v for v in ENV_VARIABLES}
    raw = env.get("BUS_ENVIRONMENTS", "")
    try:  # one environment: the name BUS_ENVIRONMENT_NAME gives it
        names = (list(parse_environments(raw)) if raw.strip()
                 else [(env.get("BUS_ENVIRONMENT_NAME") or DEFAULT).strip().lower()])
    except SettingsError:
        names = []
    for name in names:
        out |= {var for var, _ in _overrides(name, env).values()}
    return out


def settings_for(base: Settings, name: str, url: str | None, *, protected: bool = False,
                 environ: Mapping[str, str] | None = None) -> Settings:
    """One environment's settings: the shared ones, its URL and name, its overrides; a
    protected environment needs approval for every destructive action. A bad override is a
    SettingsError naming its variable."""
    env = os.environ if environ is None else environ
    overrides = _overrides(name, env)
    values: dict[str, Any] = {k: getattr(base, k) for k in Settings.model_fields}
    values.update({k: v for k, (_, v) in overrides.items()})
    values["redis_url"], values["bus_environment_name"] = url, name
    if protected:
        values["bus_approval_required"] = ",".join(sorted(APPROVAL_KINDS))
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        err = exc.errors()[0]
        fld = str(err["loc"][0]) if err["loc"] else ""
        var = overrides[fld][0] if fld in overrides else fld.upper() or "settings"
        msg = str(err["msg"]).removeprefix("Value error, ")
        raise SettingsError(f"{var}: {msg} (got {shown_value(err.get('input'))})") from None


def environment_urls(base: Settings, environ: Mapping[str, str] | None = None,
                     redis_url: str | None = None) -> dict[str, str | None]:
    """{name: url} from BUS_ENVIRONMENTS, or the one environment of REDIS_URL (`redis_url`
    given on the command line wins)."""
    env = os.environ if environ is None else environ
    raw = env.get("BUS_ENVIRONMENTS", "")
    if raw.strip() and not redis_url:
        return dict(parse_environments(raw))
    return {base.bus_environment_name: redis_url or base.redis_url}


@dataclass
class Environment:
    name: str
    settings: Settings
    protected: bool = False


def plan(base: Settings, environ: Mapping[str, str] | None = None,
         redis_url: str | None = None) -> tuple[list[Environment], dict[str, str]]:
    """Every environment's settings and the channel defaults, checked before anything connects."""
    env = os.environ if environ is None else environ
    urls = environment_urls(base, env, redis_url)
    protected = parse_protected(env.get("BUS_PROTECTED_ENVIRONMENTS", ""), urls)
    channels = parse_channels(env.get("BUS_CHANNEL_ENVIRONMENTS", ""), urls)
    envs = [Environment(name, settings_for(base, name, url, protected=name in protected, environ=env),
                        name in protected) for name, url in urls.items()]
    return envs, channels


@dataclass
class Environments:
    """name -> Runtime; the first one is the default."""
    runtimes: dict[str, Runtime]
    channels: dict[str, str] = field(default_factory=dict)
    protected: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        for name, rt in self.runtimes.items():
            rt.environment, rt.envs = name, self
            rt.protected = name in self.protected

    @property
    def default(self) -> str:
        return next(iter(self.runtimes))

    @property
    def names(self) -> list[str]:
        return list(self.runtimes)

    @property
    def multi(self) -> bool:
        return len(self.runtimes) > 1

    def get(self, name: str | None) -> Runtime | None:
        return self.runtimes.get((name or self.default).lower())

    def default_runtime(self) -> Runtime:
        return self.runtimes[self.default]

    def for_channel(self, channel: str | None) -> Runtime | None:
        """The channel's default environment (BUS_CHANNEL_ENVIRONMENTS), if it has one."""
        name = self.channels.get(channel or "")
        return self.runtimes.get(name) if name else None

    def unknown(self, name: str) -> str:
        """The sentence for an environment name that is none of these."""
        return f"There is no environment named {name!r}; this busbot knows {', '.join(self.names)}."

    def each(self, fn: Callable[[Runtime], object]) -> None:
        for rt in self.runtimes.values():
            fn(rt)

    def stop(self) -> None:
        for rt in self.runtimes.values():
            rt.stop()


def split_target(text: str) -> tuple[str | None, str]:
    """(environment named in `text` or None, the text without it): a leading `@name`, or an
    `env=name` option anywhere. `env=` with nothing after it names "" (unknown)."""
    text = (text or "").strip()
    m = _PREFIX.match(text)
    if m:
        return m.group(1).lower(), text[m.end():].strip()
    m = _OPTION.search(text)
    if m:
        return m.group(1).lower(), (text[:m.start()].rstrip() + " " + text[m.end():].lstrip()).strip()
    return None, text


def badge(name: str, protected: bool) -> dict[str, Any]:
    """What a message's first line says about its environment."""
    return {"name": name, "protected": protected,
            "slack": (":red_circle: *" + name.upper() + "* (protected)") if protected
            else (":large_blue_circle: *" + name + "*"),
            "text": f"[{name.upper()} · protected]" if protected else f"[{name}]"}


def prefixed(name: str, value: str) -> str:
    """A button value bound to environment `name`."""
    return value if value.startswith(f"@{name} ") else f"@{name} {value}"


class BadgedTransport:
    """A chat transport that puts an environment's badge on the first line of every message
    it posts or updates (alerts, job cards, approval requests from that environment's outbox)
    and binds their buttons to it (`@name ` before each value), as replies are."""

    def __init__(self, inner: Any, env: dict[str, Any]):
        self.inner, self.env = inner, env

    def post(self, channel: str, message: dict, thread_ts: str | None = None) -> str:
        return self.inner.post(channel, self._badged(message), thread_ts)

    def update(self, channel: str, ts: str, message: dict) -> None:
        self.inner.update(channel, ts, self._badged(message))

    def _badged(self, message: dict) -> dict:
        from bot.render import with_badge

        blocks = [bound_block(b, self.env["name"]) for b in message.get("blocks") or []]
        return with_badge({**message, "blocks": blocks}, self.env)

    def __getattr__(self, name: str) -> Any:  # what else the transport offers (user group ids)
        return getattr(self.inner, name)


def bound_block(block: dict, name: str) -> dict:
    """An actions block whose buttons' values are bound to environment `name`."""
    if block.get("type") != "actions":
        return block
    return {**block, "elements": [{**e, "value": prefixed(name, e["value"])}
                                  if e.get("type") == "button" and isinstance(e.get("value"), str) else e
                                  for e in block.get("elements") or []]}
