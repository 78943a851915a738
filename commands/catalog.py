"""Importing this module registers every command; `/bus help` lists them in
`commands.registry.HELP_ORDER`, whatever the order of the imports below."""
from commands import (  # noqa: F401
    alerts,
    approvals,
    audit,
    dlq,
    dlq_actions,
    edit,
    events,
    forms,
    groups,
    guard,
    health,
    help,
    jobs,
    pause,
    redis_cmd,
    replay,
    reprocess,
    silence,
    trim,
    whoami,
)
