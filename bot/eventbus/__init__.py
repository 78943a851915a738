"""A reference implementation of the event bus busbot operates (docs/eventbus.md, runbook Event
Flow): publish BaseEvents, consume them in a group with retries, a dead-letter stream,
the pause protocol and processing metadata. No Slack here.

    publisher.py   Publisher: one event or a batch in one round trip
    event.py       the BaseEvent envelope (id, timestamp, correlation id)
    handlers.py    Handlers: functions registered by type pattern, with priority, time
                   limit and attempts of their own
    errors.py      Retry and Permanent, which a handler raises to choose what happens next
    middleware.py  hooks run before and after each event and on each dead letter
    dispatch.py    what a type runs: its handlers with their limits resolved
    retry.py       RetryPolicy: delay after each failed attempt, when to give up
    settle.py      the three Lua calls that ack, dead-letter and claim entries
    timelimit.py   a handler time limit cheap enough for every event
    pause.py       the pause protocol, seen from a consumer
    worker.py      Worker: the consume loop
    demo_load.py   realistic traffic and failing handlers for demos
    cli.py         `busbot publish`, `busbot worker`, `busbot demo-load`
"""
from bot.eventbus.errors import Permanent, Retry

__all__ = ["Permanent", "Retry"]
