"""Read-only commands answered in worker processes.

Acks and command work share one process; a CPU-bound answer (a cold `dlq top` decoding
hundreds of thousands of entries) would hold the GIL the acking threads need. Answers of
read-only commands are computed and rendered in a small pool of worker processes with their
own Redis connections; this process only acks and posts the result. Commands that write stay
in-process (their jobs and notifiers live here), and so does everything on an embedded Redis,
which other processes cannot reach.

Most answers wait on Redis rather than compute, so each worker process answers up to
`THREADS` commands at once (threads: a slow Redis delays each answer, not the queue behind
it), and the CPU-bound ones still leave the acking process alone. A worker that dies (killed,
out of memory) is replaced, and the commands it held are asked again of the others once:
they only read, so asking twice is harmless.
"""
from __future__ import annotations

import itertools
import logging
import multiprocessing
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from typing import Any

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
THREADS = 16  # commands answered at once by one worker process
ANSWER_TIMEOUT_S = 120
WATCH_S = 0.5  # how often the pool looks for a dead worker
NICE = 5  # workers yield the CPU to the acking process when both want it

_worker_rt: Runtime | None = None  # set in each worker process by _start_worker (no job runner)


def _start_worker(redis_url: str) -> None:
    global _worker_rt
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = load_settings()
    bus = open_bus(settings, redis_url, warn=False)  # the serving process has logged what start-up warns of
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


class WorkerDied(RuntimeError):
    """The worker process answering a command died twice in a row."""


Task = tuple[int, str, str, "str | None"]  # (task id, text, user id, action)


def _worker_main(redis_url: str, tasks: Any, results: Any, threads: int) -> None:
    """A worker process: start the runtime, then answer tasks on `threads` threads until
    a None arrives."""
    try:
        os.nice(NICE)
    except OSError:  # not allowed here: run at the same priority
        pass
    try:
        _start_worker(redis_url)
        failure: BaseException | None = None
    except Exception as exc:  # noqa: BLE001 - every answer reports it
        failure = exc
    results.put(("ready", None, None))

    def run(task: Task) -> None:
        task_id, text, user_id, action = task
        try:
            if failure is not None:
                raise failure
            results.put((task_id, True, _answer(text, user_id, action)))
        except Exception as exc:  # noqa: BLE001 - handed to the caller's error boundary
            results.put((task_id, False, _portable(exc)))

    with ThreadPoolExecutor(threads, thread_name_prefix="busbot-answer") as executor:
        while (task := tasks.get()) is not None:
            executor.submit(run, task)


def _portable(exc: Exception) -> Exception:
    """`exc` if it survives pickling, else a RuntimeError that says what it was."""
    import pickle
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001 - any pickling failure
        return RuntimeError(f"{type(exc).__name__}: {exc}")


@dataclass
class _Worker:
    process: BaseProcess
    tasks: Any  # multiprocessing.Queue of Task | None
    held: dict[int, Task] = field(default_factory=dict)  # sent, not answered yet


class CommandPool:
    """`processes` worker processes of `threads` threads each; `answer()` blocks its
    caller (a listener thread) until the worker replies."""

    def __init__(self, redis_url: str, processes: int = PROCESSES, threads: int = THREADS):
        self.redis_url, self.processes, self.threads = redis_url, processes, threads
        self._ctx = multiprocessing.get_context("spawn")
        self._results = self._ctx.Queue()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._futures: dict[int, Future] = {}
        self._retried: set[int] = set()
        self._closed = threading.Event()
        self.workers = [self._spawn() for _ in range(processes)]
        self._collector = threading.Thread(target=self._collect, name="busbot-pool-results", daemon=True)
        self._collector.start()
        self._watcher = threading.Thread(target=self._watch, name="busbot-pool-watch", daemon=True)
        self._watcher.start()

    @property
    def capacity(self) -> int:
        """Commands answered at once."""
        return self.processes * self.threads

    def _spawn(self) -> _Worker:
        tasks = self._ctx.Queue()
        process = self._ctx.Process(target=_worker_main, args=(self.redis_url, tasks, self._results, self.threads),
                                    name="busbot-answers", daemon=True)
        process.start()
        return _Worker(process, tasks)

    def answer(self, text: str, user_id: str, action: str | None = None) -> tuple[Reply, dict]:
        """(reply, rendered message) for a read-only command, or for a `bus_run`/`bus_share`
        click when `action` is given (then `text` is the button's value)."""
        future: Future = Future()
        with self._lock:
            if self._closed.is_set():
                raise RuntimeError("the command worker pool is shut down")
            task_id = next(self._ids)
            self._futures[task_id] = future
            self._send((task_id, text, user_id, action))
        try:
            return future.result(timeout=ANSWER_TIMEOUT_S)
        except FutureTimeout:
            with self._lock:
                self._futures.pop(task_id, None)
            raise

    def _send(self, task: Task) -> None:
        """To the worker holding the fewest commands (the caller holds the lock)."""
        worker = min(self.workers, key=lambda w: len(w.held))
        worker.held[task[0]] = task
        worker.tasks.put(task)

    def _collect(self) -> None:
        while True:
            try:
                task_id, ok, payload = self._results.get()
            except (EOFError, OSError):  # the queue was closed at shutdown
                return
            if task_id is None:  # the end of the pool
                return
            if task_id == "ready":
                continue
            with self._lock:
                for worker in self.workers:
                    worker.held.pop(task_id, None)
                future = self._futures.pop(task_id, None)
                self._retried.discard(task_id)
            if future is not None:
                (future.set_result if ok else future.set_exception)(payload)

    def _watch(self) -> None:
        """Replace a dead worker; ask its commands again of the living, once each."""
        while not self._closed.wait(WATCH_S):
            with self._lock:
                for i, worker in enumerate(self.workers):
                    if worker.process.is_alive() or self._closed.is_set():
                        continue
                    log.warning("command worker %s died (exit code %s); starting another",
                                worker.process.pid, worker.process.exitcode)
                    self.workers[i] = self._spawn()
                    for task_id, task in worker.held.items():
                        future = self._futures.get(task_id)
                        if future is None:
                            continue
                        if task_id in self._retried:
                            self._futures.pop(task_id)
                            future.set_exception(WorkerDied("the command worker died while answering, twice"))
                        else:
                            self._retried.add(task_id)
                            self._send(task)

    def shutdown(self, wait: bool = False) -> None:
        """Stop the workers; answers not given yet fail. `wait` until the processes are gone
        (at a process's exit, so nothing is left to clean up after the interpreter)."""
        with self._lock:
            if self._closed.is_set():
                return
            self._closed.set()
            for worker in self.workers:
                try:
                    worker.tasks.put(None)
                except (ValueError, OSError):
                    pass
            for future in self._futures.values():
                future.set_exception(RuntimeError("the command worker pool is shut down"))
            self._futures.clear()
        for worker in self.workers:
            worker.process.join(5 if wait else 0.1)
            if worker.process.is_alive():
                worker.process.terminate()
                if wait:
                    worker.process.join(5)
        self._results.put((None, None, None))
        if wait:
            self._collector.join(5)
        for worker in self.workers:
            worker.tasks.close()
            worker.tasks.join_thread()


def pool_for(bus: Bus) -> CommandPool | None:
    """A pool when other processes can reach the bus's Redis; None on an embedded one."""
    return CommandPool(bus.url) if bus.url else None
