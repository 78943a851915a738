"""The README's table of environment variables, generated from `Settings` so it lists every
setting with its real default. `python -m bot.settings_doc` prints the table;
`python -m bot.settings_doc --write` puts it into README.md between its markers.

A setting's text is its `Field(description=...)` when it has one, else the entry here; a
setting with neither fails the test that compares the README with this table.
"""
from __future__ import annotations

import sys
from pathlib import Path

from pydantic import SecretStr

from bot.settings import Settings

START, END = "<!-- settings-table:start -->", "<!-- settings-table:end -->"
README = Path(__file__).resolve().parents[1] / "README.md"

DESCRIPTIONS = {
    "slack_bot_token": "the Slack app's bot token (`busbot serve`)",
    "slack_signing_secret": "verifies that requests come from Slack (HTTP mode)",
    "slack_app_token": "set it to use Socket Mode instead of HTTP",
    "slack_api_url": "base URL of the Slack Web API (tests point it at a stand-in; default: Slack)",
    "redis_url": "the bus's Redis; without it the console runs on an embedded demo bus. Its password "
                 "(`redis://:pw@host` or `?password=`) is masked wherever busbot shows the URL: replies, "
                 "alerts, `/events/health`, logs, errors",
    "port": "HTTP port of `busbot serve`",
    "bus_events_stream": "the main stream",
    "bus_dlq_stream": "the dead-letter stream",
    "bus_group": "the platform's consumer group",
    "bus_metadata_stream": "processing metadata (p99, failed events/hr)",
    "bus_audit_stream": "who did what: requests, approvals, refusals, jobs",
    "bus_prefix": "prefix of busbot's own keys",
    "bus_operators": "comma-separated user ids allowed to run guarded actions",
    "bus_alert_channel": "Slack channel of the alerts",
    "bus_check_interval": "seconds between alert checks",
    "bus_alert_for": "seconds a condition must hold before it fires",
    "bus_alert_repeat": "seconds between reminders of a firing alert",
    "bus_dlq_warn": "DLQ size: warning above",
    "bus_dlq_crit": "DLQ size: critical above",
    "bus_lag_warn": "consumer lag: warning above",
    "bus_lag_crit": "consumer lag: critical above",
    "bus_failed_per_hour_warn": "failed events per hour: warning above",
    "bus_failed_per_hour_crit": "failed events per hour: critical above",
    "bus_p99_warn_seconds": "processing time p99 (seconds): warning above",
    "bus_p99_crit_seconds": "processing time p99 (seconds): critical above",
    "bus_idle_warn_seconds": "a stale consumer group: age (seconds) of its oldest pending or undelivered "
                             "entry, warning above",
    "bus_idle_crit_seconds": "a stale consumer group: critical above (seconds)",
    "bus_approval_required": "actions that need a second operator's approval",
    "bus_approval_ttl": "seconds a preview's buttons stay valid",
    "bus_job_batch": "entries a job moves per batch",
    "bus_job_lease": "seconds before another process takes over a silent runner's job",
    "bus_settle_seconds": "seconds before the reprocess follow-up checks what came back",
    "bus_archive_days": "days purged or deleted DLQ entries can be restored",
    "bus_actions_channel": "Slack channel of job progress (default: the alert channel)",
    "bus_retry_delays": "worker: seconds before retry 1, 2, 3…",
    "bus_max_attempts": "worker: attempts before an event goes to the DLQ",
    "bus_handler_timeout": "worker: seconds a handler may run",
    "bus_claim_idle": "worker: seconds pending before another consumer claims an entry",
    "bus_metadata_maxlen": "worker: length cap of the metadata stream",
    "bus_events_maxlen": "publisher: length cap of the main stream (`MAXLEN ~`; default: no cap)",
    "bus_api_tokens": "HTTP admin API tokens, `name:token,...`; a token acts as `api:<name>`",
    "bus_dashboard_secret": "signs dashboard session cookies (default: random per process)",
    "bus_dashboard_trusted_header": "header set by an SSO proxy that names the signed-in user",
    "bus_dashboard_trusted_proxies": "IPs or CIDR networks whose trusted header is believed",
}


def _default(field) -> str:
    value = field.default
    if value is None or value == "" or isinstance(value, SecretStr):
        return "–"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"`{value}`"


def description(name: str) -> str | None:
    field = Settings.model_fields[name]
    return field.description or DESCRIPTIONS.get(name)


def undocumented() -> list[str]:
    return [name for name in Settings.model_fields if not description(name)]


def table() -> str:
    """One row per setting, in the order `Settings` declares them."""
    rows = ["| variable | default | what |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        what = (description(name) or "").replace("|", "\\|")
        rows.append(f"| `{name.upper()}` | {_default(field)} | {what} |")
    return "\n".join(rows)


def readme_table(text: str) -> str:
    """The table between the markers of README.md's text."""
    start, end = text.index(START) + len(START), text.index(END)
    return text[start:end].strip()


def write(path: Path = README) -> bool:
    """Put the generated table into the README; True when it changed."""
    text = path.read_text()
    start, end = text.index(START) + len(START), text.index(END)
    new = text[:start] + "\n" + table() + "\n" + text[end:]
    if new != text:
        path.write_text(new)
    return new != text


def main(argv: list[str]) -> int:
    if undocumented():
        print("settings without a description: " + ", ".join(undocumented()), file=sys.stderr)
        return 1
    if "--write" in argv:
        print("README.md updated" if write() else "README.md already up to date")
    else:
        print(table())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
