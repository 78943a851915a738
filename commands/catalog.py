"""Importing this module registers every command (the order is the order of `/bus help`)."""
from commands import help, health, groups, events, redis_cmd, dlq, alerts  # noqa: F401
from commands import reprocess, dlq_actions, replay, trim, pause, jobs, approvals, audit, guard  # noqa: F401,E402
