"""Read-only commands answered in worker processes.

Acks and command work share one process; a CPU-bound answer (a cold `dlq top` decoding
hundreds of thousands of entries) would hold the GIL the acking threads need. Answers of
read-only commands are computed and rendered in a small pool of worker processes with their
own Redis connection; this process only acks and posts the result. Commands that write stay
in-process (their jobs and notifiers live here), and so does everything on an embedded Redis,
which other processes cannot reach.
"""
from __future__ import annotations

import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from bot.bus import Bus
from bot.connection import open_bus
from bot.render import render_reply
from bot.runtime import Runtime, build_runtime
from bot.settings import load_settings
from bot.slack.groups import directory_for
from commands import router
from commands.reply import Reply

log = logging.getLogger(__name__)

PROCESSES = 2
ANSWER_TIMEOUT_S = 120

_worker_rt: Runtime | None = None  # set in each worker process by _start_worker (no job runner)


def _start_worker(redis_url: str) -> None:
    global _worker_rt
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = load_settings()
    bus = open_bus(settings, redis_url)
    _worker_rt = build_runtime(bus, start_jobs=False, groups=directory_for(settings, bus))


def _ready() -> bool:
    return _worker_rt is not None


def _answer(text: str, user_id: str, action: str | None) -> tuple[Reply, dict]:
    assert _worker_rt is not None, "_start_worker runs first in every worker process"
    reply = (router.run_action(action, text, _worker_rt, user_id) if action
             else router.run(text, _worker_rt, user_id))
    message = render_reply(reply)
    reply.context = {k: v for k, v in reply.context.items() if k == "shared_by"}  # all the adapter reads
    return reply, message


class CommandPool:
    def __init__(self, redis_url: str, processes: int = PROCESSES):
        self.redis_url, self.processes = redis_url, processes
        self.executor = self._start()

    def _start(self) -> ProcessPoolExecutor:
        executor = ProcessPoolExecutor(self.processes, mp_context=multiprocessing.get_context("spawn"),
                                       initializer=_start_worker, initargs=(self.redis_url,))
        for _ in range(self.processes):  # start the workers now, not on the first command
            executor.submit(_ready)
        return executor

    def answer(self, text: str, user_id: str, action: str | None = None) -> tuple[Reply, dict]:
        """(reply, rendered message) for a read-only command, or for a `bus_run`/`bus_share`
        click when `action` is given (then `text` is the button's value)."""
        try:
            return self.executor.submit(_answer, text, user_id, action).result(timeout=ANSWER_TIMEOUT_S)
        except BrokenProcessPool:  # a worker died (killed, out of memory): start afresh once
            log.warning("command worker pool broke; restarting it")
            self.executor = self._start()
            return self.executor.submit(_answer, text, user_id, action).result(timeout=ANSWER_TIMEOUT_S)

    def shutdown(self, wait: bool = False) -> None:
        """Stop the workers; queued answers are dropped. `wait` until they are gone (at a
        process's exit: Python 3.11's exit hook otherwise races the pool's own clean-up and
        prints a trace)."""
        self.executor.shutdown(wait=wait, cancel_futures=True)


def pool_for(bus: Bus) -> CommandPool | None:
    """A pool when other processes can reach the bus's Redis; None on an embedded one."""
    return CommandPool(bus.url) if bus.url else None
