"""waitress, run so that it can stop gracefully: `stop()` (from a signal handler or another
thread) closes the listening socket at once, then the loop keeps serving the requests
already received until their answers are sent (or `DRAIN_S` passes), then ends."""
from __future__ import annotations

import logging
import threading
import time

import waitress
from waitress import wasyncore
from waitress.channel import HTTPChannel

from bot.web.limits import MAX_BODY

log = logging.getLogger(__name__)

THREADS = 16  # HTTP threads; each is busy only until its request is answered
DRAIN_S = 10.0
POLL_S = 0.2  # how soon the loop notices stop()
# waitress itself refuses bodies far above the app's limit without buffering them; the app
# answers 413 with a sentence to anything between.
HARD_BODY_LIMIT = 8 * MAX_BODY


class HttpServer:
    def __init__(self, app, host: str = "0.0.0.0", port: int = 0, threads: int = THREADS):
        self._server = waitress.create_server(app, host=host, port=port, threads=threads,
                                              max_request_body_size=HARD_BODY_LIMIT,
                                              ident="busbot")
        self.port: int = self._server.effective_port  # type: ignore[union-attr]
        self._stopping = threading.Event()
        self.stopped = threading.Event()

    def stop(self) -> None:
        """Ask the loop to stop; safe from a signal handler or any thread."""
        self._stopping.set()

    def run(self, drain_s: float = DRAIN_S) -> None:
        srv, loop = self._server, self._server.asyncore  # type: ignore[union-attr]
        try:
            while not self._stopping.is_set():
                loop.loop(timeout=POLL_S, map=srv._map, count=1)  # type: ignore[union-attr]
            wasyncore.dispatcher.close(srv)  # stop accepting: the listening socket is closed
            deadline = time.monotonic() + drain_s
            while self._busy() and time.monotonic() < deadline:
                loop.loop(timeout=0.05, map=srv._map, count=1)  # type: ignore[union-attr]
            if self._busy():
                log.warning("stopping with requests still unanswered after %.0f s", drain_s)
            srv.task_dispatcher.shutdown(timeout=1)  # type: ignore[union-attr]
            wasyncore.close_all(srv._map)  # type: ignore[union-attr]
        finally:
            self.stopped.set()

    def _busy(self) -> bool:
        """Requests received and not yet fully answered (idle keep-alive connections are not)."""
        srv = self._server
        if srv.task_dispatcher.queue or srv.task_dispatcher.active_count:  # type: ignore[union-attr]
            return True
        return any(isinstance(ch, HTTPChannel) and (ch.requests or ch.total_outbufs_len)
                   for ch in list(srv._map.values()))  # type: ignore[union-attr]
