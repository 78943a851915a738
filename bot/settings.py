"""Typed settings, read once from the environment (README's configuration table) and passed in.

A bad value stops start-up with one line naming the variable and what it expects
(`SettingsError`); secrets never appear in `repr`.
"""
from __future__ import annotations

import difflib
import ipaddress
import os
import re
from collections.abc import Callable, Mapping
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.mask import compile_patterns, parse_fields
from bot.redact import redact_text, redact_value

# what BUS_APPROVAL_REQUIRED may name (bot/actions/policy.py describes each)
APPROVAL_KINDS = frozenset({"reprocess_one", "reprocess_bulk", "delete", "purge", "restore",
                            "replay", "trim", "pause", "resume", "edit"})


# one entry of BUS_VIEWERS / BUS_OPERATORS / BUS_APPROVERS (bot/actions/policy.py): a user id,
# a user group id or @handle, api:<name>, or the name a console or sign-in proxy gives
ROLE_ENTRY = re.compile(r"@?[^\s@,][^\s,]*")


class SettingsError(Exception):
    """A setting has a value busbot cannot use; the message names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str | None = None

    redis_url: str | None = Field(None, repr=False)  # may hold a password
    port: int = Field(3000, ge=1, le=65535)

    # How busbot reaches Redis (bot/connection.py, docs/redis.md)
    bus_redis_mode: Literal["auto", "standalone", "cluster", "sentinel"] = Field(
        "auto", description="`auto` finds out from `REDIS_URL` (and the Sentinel settings); `standalone`, "
                            "`cluster` or `sentinel` skips the detection")
    bus_redis_sentinels: str = Field("", description="comma-separated `host:port` of the Sentinels; with "
                                                     "`BUS_REDIS_SENTINEL_MASTER` busbot asks them for the primary")
    bus_redis_sentinel_master: str | None = Field(
        None, validate_default=True,
        description="the name the Sentinels monitor the primary under; `REDIS_URL` then only gives the scheme, "
                    "user, password and database")
    bus_redis_ca_file: str | None = Field(None, description="CA certificate(s) that sign the server's "
                                                            "certificate (`rediss://`); default: the system's")
    bus_redis_cert_file: str | None = Field(None, description="client certificate for mutual TLS")
    bus_redis_key_file: str | None = Field(None, description="private key of `BUS_REDIS_CERT_FILE`")
    bus_wait_replicas: int = Field(0, ge=0, description="after each batch a job waits until this many replicas "
                                                        "hold it (`WAIT`); 0: no wait")
    bus_wait_timeout: float = Field(2.0, gt=0, description="seconds a job waits for those replicas before it "
                                                           "pauses and tries again")

    bus_events_stream: str = "hyvve:events"
    bus_dlq_stream: str = "hyvve:dlq"
    bus_group: str = "hyvve-platform"
    bus_metadata_stream: str = "hyvve:events:metadata"
    bus_audit_stream: str = "hyvve:bus:audit"
    bus_prefix: str = "hyvve"
    bus_operators: str = ""

    # Roles (bot/actions/policy.py, docs/governance.md): entries are Slack user ids (U…/W…),
    # user group ids (S…), user group handles (@oncall-platform) or api:<name>.
    bus_viewers: str = Field("", description="who may read: comma-separated user ids, user group ids (`S…`), "
                                             "`@handles` or `api:<name>`; empty: everyone in the workspace")
    bus_approvers: str = Field("", description="who may approve guarded actions (same kinds of entries); "
                                               "empty: the operators")
    # Masking personal data (bot/mask.py)
    bus_mask_fields: str = Field("", description="comma-separated paths into the event whose values are "
                                                 "always masked: `data.email`, `data.*.phone`, "
                                                 "`data.items[*].name`")
    bus_mask_patterns: str = Field("", description="extra regexes masked in every string and error message "
                                                   "(comma-separated, or one a line)")
    bus_mask_defaults: bool = Field(True, description="mask e-mail addresses, phone numbers, card numbers, "
                                                      "bearer tokens and URL passwords wherever they appear")
    bus_unmask_role: Literal["", "viewer", "operator", "approver"] = Field(
        "", description="a role that may see raw values (`dlq show <id> unmask=yes`, private, audited); "
                        "empty: nobody")

    bus_alert_channel: str | None = None
    # Alerts on par with Alertmanager's Slack receiver (docs/alerts.md)
    bus_environment_name: str = Field("default", description="the environment's name, shown in every alert "
                                                           "and on the App Home")
    bus_alert_channel_critical: str | None = Field(None, description="where critical alerts go (default: "
                                                                     "`BUS_ALERT_CHANNEL`)")
    bus_alert_mention: str | None = Field(None, description="who a critical alert mentions: a user group's "
                                                            "id (`S…`) or `@handle`")
    bus_runbook_url: str | None = Field(None, description="the runbook's address; each alert links its "
                                                          "section (`#anchor`)")
    bus_dashboard_url: str | None = Field(None, description="the dashboard's address (`https://host/admin/"
                                                            "events`); each alert links its page")
    bus_check_interval: int = Field(30, ge=1)
    bus_alert_for: int = Field(300, ge=0)
    bus_alert_repeat: int = Field(4 * 3600, ge=60)

    bus_dlq_warn: int = Field(100, ge=0)
    bus_dlq_crit: int = Field(500, ge=0)
    bus_lag_warn: int = Field(1000, ge=0)
    bus_lag_crit: int = Field(5000, ge=0)
    bus_failed_per_hour_warn: int = Field(10, ge=0)
    bus_failed_per_hour_crit: int = Field(50, ge=0)
    bus_p99_warn_seconds: float = Field(5.0, ge=0)
    bus_p99_crit_seconds: float = Field(30.0, ge=0)
    # A stale group: its oldest pending (or oldest undelivered) entry is this old. The
    # warning default is above the worker's whole retry schedule (1 + 5 + 30 min), so an
    # event that is being retried as planned does not count as stale.
    bus_idle_warn_seconds: int = Field(2400, ge=1)
    bus_idle_crit_seconds: int = Field(3600, ge=1)

    # guarded actions
    bus_approval_required: str = "reprocess_bulk,purge,replay,trim"  # kinds a 2nd operator approves
    bus_approval_ttl: int = Field(900, ge=10)  # seconds a preview's buttons stay valid
    bus_job_batch: int = Field(100, ge=1, le=2000)  # entries moved per Lua call (~2 ms)
    bus_job_lease: int = Field(15, ge=2)  # seconds before a silent runner's job is taken over
    bus_settle_seconds: int = Field(600, ge=0)  # wait before the reprocess follow-up
    bus_archive_days: int = Field(7, ge=1)  # how long purged DLQ entries can be restored
    bus_actions_channel: str | None = None  # job progress messages (default: alert channel)

    # Event bus worker and publisher (bot/eventbus): seconds unless named otherwise.
    bus_retry_delays: str = "60,300,1800"  # delay after failed attempt 1, 2, 3...
    bus_max_attempts: int = Field(3, ge=1)
    bus_handler_timeout: float = Field(30.0, gt=0)
    bus_claim_idle: float = Field(120.0, gt=0)  # pending this long -> its consumer is dead
    bus_metadata_maxlen: int = Field(100_000, ge=1)
    bus_events_maxlen: int | None = Field(None, ge=1)  # publisher MAXLEN ~, None: no trim

    # HTTP admin API tokens and the dashboard (/admin/events)
    bus_api_tokens: SecretStr | None = None  # name:token,...; a token acts as api:<name>
    bus_dashboard_secret: SecretStr | None = None  # signs session cookies (else random per process)
    bus_dashboard_trusted_header: str | None = None  # e.g. X-Forwarded-Email, set by an SSO proxy
    bus_dashboard_trusted_proxies: str = ""  # IPs/CIDRs whose trusted header is believed

    @field_validator("bus_runbook_url", "bus_dashboard_url")
    @classmethod
    def _http_url(cls, v: str | None) -> str | None:
        if v is None or not v.strip():
            return None
        if not v.strip().startswith(("https://", "http://")):
            raise ValueError("must be an http:// or https:// address")
        return v.strip()

    @field_validator("bus_alert_mention")
    @classmethod
    def _mention(cls, v: str | None) -> str | None:
        if v is None or not v.strip():
            return None
        v = v.strip()
        if not re.fullmatch(r"S[A-Z0-9]{2,}|@[\w.\-]+", v):
            raise ValueError("must be a user group id (S…) or an @handle such as @oncall-platform")
        return v

    @field_validator("bus_dashboard_trusted_proxies")
    @classmethod
    def _networks(cls, v: str) -> str:
        for part in (p.strip() for p in v.split(",")):
            if part:
                try:
                    ipaddress.ip_network(part, strict=False)
                except ValueError:
                    raise ValueError(f"{part!r} is not an IP address or CIDR network") from None
        return v

    @property
    def dashboard_trusted_proxies(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return tuple(ipaddress.ip_network(p.strip(), strict=False)
                     for p in self.bus_dashboard_trusted_proxies.split(",") if p.strip())

    @field_validator("bus_events_stream", "bus_dlq_stream", "bus_group", "bus_metadata_stream",
                     "bus_audit_stream", "bus_prefix", "bus_environment_name")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be empty")
        return v.strip()

    @field_validator("bus_operators", "bus_viewers", "bus_approvers")
    @classmethod
    def _role_entries(cls, v: str) -> str:
        for part in (p.strip() for p in v.split(",")):
            if part and not ROLE_ENTRY.fullmatch(part):
                raise ValueError(f"{part!r} is not a Slack user id (U…/W…), a user group id (S…), "
                                 "a user group handle (@name) or api:<name>; separate entries with commas")
        return v

    @field_validator("bus_mask_fields", "bus_mask_patterns", "bus_redis_sentinels")
    @classmethod
    def _parses(cls, v: str, info: ValidationInfo) -> str:
        """Kept as text, but read once here so a bad value stops start-up with its reason."""
        PARSERS[info.field_name or ""](v)
        return v

    @field_validator("bus_approval_required")
    @classmethod
    def _known_kinds(cls, v: str) -> str:
        unknown = sorted({k.strip() for k in v.split(",") if k.strip()} - APPROVAL_KINDS)
        if unknown:
            raise ValueError(f"unknown action {unknown[0]!r}; use a comma-separated list of "
                             + ", ".join(sorted(APPROVAL_KINDS)))
        return v

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, v: str | None) -> str | None:
        return check_redis_url(v)

    @field_validator("bus_redis_sentinel_master")
    @classmethod
    def _sentinel_pair(cls, v: str | None, info: ValidationInfo) -> str | None:
        """Sentinels and a master name come together; `sentinel` mode needs both."""
        v = v.strip() if v and v.strip() else None
        sentinels = info.data.get("bus_redis_sentinels")
        if sentinels is None:  # BUS_REDIS_SENTINELS itself was bad and is reported
            return v
        if sentinels.strip() and not v:
            raise ValueError("is needed with BUS_REDIS_SENTINELS: set it to the name the Sentinels monitor "
                             "the primary under")
        if v and not sentinels.strip():
            raise ValueError("needs BUS_REDIS_SENTINELS (comma-separated host:port of the Sentinels)")
        if info.data.get("bus_redis_mode") == "sentinel" and not v:
            raise ValueError("is needed with BUS_REDIS_MODE=sentinel, together with BUS_REDIS_SENTINELS")
        return v

    @field_validator("bus_redis_ca_file", "bus_redis_cert_file", "bus_redis_key_file")
    @classmethod
    def _readable_file(cls, v: str | None) -> str | None:
        if v is None or not v.strip():
            return None
        if not os.path.isfile(v.strip()):
            raise ValueError("names no readable file")
        return v.strip()

    @field_validator("bus_retry_delays")
    @classmethod
    def _delays(cls, v: str) -> str:
        try:
            delays = [float(d) for d in v.split(",")]
        except ValueError:
            raise ValueError("must be comma-separated seconds, e.g. 60,300,1800") from None
        if not delays or min(delays) < 0:
            raise ValueError("must be comma-separated seconds >= 0, e.g. 60,300,1800")
        return v

    @field_validator("bus_dlq_crit", "bus_lag_crit", "bus_failed_per_hour_crit", "bus_p99_crit_seconds",
                     "bus_idle_crit_seconds")
    @classmethod
    def _crit_not_below_warn(cls, v: float, info: ValidationInfo) -> float:
        """A warning threshold above its critical one would skip the warning level."""
        warn_name = str(info.field_name).replace("_crit", "_warn")
        warn = info.data.get(warn_name)  # absent when the warning value itself was bad
        if warn is not None and warn > v:
            crit_var, warn_var = str(info.field_name).upper(), warn_name.upper()
            raise ValueError(f"is below {warn_var} ({warn:g}); set {crit_var} at or above {warn_var}, "
                             f"or lower {warn_var}")
        return v

    @property
    def retry_delays(self) -> tuple[float, ...]:
        return tuple(float(d) for d in self.bus_retry_delays.split(","))

    @property
    def approval_required(self) -> frozenset[str]:
        return frozenset(k.strip() for k in self.bus_approval_required.split(",") if k.strip())

    @property
    def sentinels(self) -> list[tuple[str, int]]:
        return sentinel_addresses(self.bus_redis_sentinels)

    @property
    def operators(self) -> frozenset[str]:
        return frozenset(u.strip() for u in self.bus_operators.split(",") if u.strip())


def unknown_bus_variables(environ: Mapping[str, str] | None = None) -> list[str]:
    """One warning per `BUS_*` variable in the environment that is no setting (a typo would
    otherwise be ignored without a word), naming the nearest known one."""
    from bot.environments import override_variables  # it builds on these settings

    env = os.environ if environ is None else environ
    known = sorted(name.upper() for name in Settings.model_fields if name.startswith("bus_"))
    per_environment = override_variables(env)  # BUS_ENVIRONMENTS and BUS_<NAME>_... overrides
    lines = []
    for name in sorted(n.upper() for n in env if n.upper().startswith("BUS_")):
        if name in known or name in per_environment:
            continue
        nearest = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        hint = f"did you mean {nearest[0]}?" if nearest else "no busbot setting is named like it"
        lines.append(f"{name} is not a busbot setting and is ignored ({hint})")
    return lines


def sentinel_addresses(v: str) -> list[tuple[str, int]]:
    """`host:port,...` as (host, port) pairs; ValueError naming the part that is not one."""
    out = []
    for part in (p.strip() for p in v.split(",")):
        if not part:
            continue
        host, _, port = part.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"{part!r} is not host:port; use comma-separated host:port, e.g. "
                             "sentinel-1:26379,sentinel-2:26379")
        out.append((host.strip("[]"), int(port)))
    return out


# Settings kept as text whose value is checked by reading it once (see Settings._parses).
PARSERS: dict[str, Callable[[str], object]] = {
    "bus_mask_fields": parse_fields, "bus_mask_patterns": compile_patterns, "bus_redis_sentinels": sentinel_addresses}


def check_redis_url(v: str | None) -> str | None:
    """A Redis URL as given (REDIS_URL, --redis): stripped, None when blank; ValueError
    (whose text never holds the value) when its scheme is not one redis-py opens."""
    if v is None or not v.strip():
        return None
    v = v.strip()
    if not v.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError("must start with redis://, rediss:// or unix://")
    return v


def load_settings(**overrides) -> Settings:
    """Read the environment; raise SettingsError naming the first bad variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        err = exc.errors()[0]
        name = str(err["loc"][0]).upper() if err["loc"] else "settings"
        msg = redact_text(err["msg"].removeprefix("Value error, "))
        got = "its value is a secret, not shown" if _secret(name) else f"got {shown_value(err.get('input'))}"
        raise SettingsError(f"{name}: {msg} ({got})") from None


def _secret(name: str) -> bool:
    """True for a setting whose value is never shown (tokens, signing secrets)."""
    field = Settings.model_fields.get(name.lower())
    return field is not None and "SecretStr" in str(field.annotation)


def shown_value(value) -> str:
    """A setting's value as an error message may show it: quoted, credentials masked."""
    if isinstance(value, str):
        return repr(redact_value(value))
    return redact_text(repr(value))
