"""Who may do what: operators (BUS_OPERATORS) and which kinds need a second operator
(BUS_APPROVAL_REQUIRED; default bulk reprocess, purge, replay and trim)."""
from __future__ import annotations

from bot.settings import Settings

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
}


def is_operator(settings: Settings, user_id: str) -> bool:
    return user_id in settings.operators


def needs_approval(settings: Settings, kind: str) -> bool:
    return kind in settings.approval_required
