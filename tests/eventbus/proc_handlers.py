"""Handlers for worker subprocesses in the tests:
`busbot worker --handlers tests.eventbus.proc_handlers`.

An event's `data.fate` says how it behaves: `ok` succeeds, `flaky` fails its first
attempt, `bad` always fails. Each success is recorded in Redis (a set of event ids and a
count of runs, which shows events handled more than once after a kill).
"""
from __future__ import annotations

import os
import time

from bot.connection import connect

HANDLED = "test:handled"
RUNS = "test:runs"


def register(handlers) -> None:
    r = connect(os.environ["REDIS_URL"])
    pause = float(os.environ.get("TEST_HANDLER_SLEEP", "0"))

    def handle(msg) -> None:
        if pause:
            time.sleep(pause)
        fate = msg.event["data"].get("fate", "ok")
        if fate == "bad" or (fate == "flaky" and msg.attempt == 1):
            raise RuntimeError(f"{fate} event {msg.event['id']}")
        r.pipeline(transaction=False).sadd(HANDLED, msg.event["id"]).incr(RUNS).execute()

    handlers.register("*", handle)
