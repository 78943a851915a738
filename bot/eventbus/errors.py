"""What a handler may raise to say more than "this attempt failed".

    raise Retry(delay=30)            # try again in 30 s (the attempt counts)
    raise Permanent("no such tenant")  # never retry: to the DLQ now, with this reason

Any other exception is a failed attempt retried after the policy's delay.
"""
from __future__ import annotations


class Retry(Exception):
    """Try this event again after `delay` seconds (None: the retry policy's delay for this
    attempt). The attempt counts: after the last one allowed the event goes to the DLQ with
    `reason` as its error."""

    def __init__(self, delay: float | None = None, reason: str = "") -> None:
        if delay is not None and not delay >= 0:
            raise ValueError(f"Retry delay must be seconds >= 0, not {delay!r}")
        self.delay = delay
        self.reason = reason or ("retry requested" if delay is None
                                 else f"retry requested in {delay:g}s")
        super().__init__(self.reason)


class Permanent(Exception):
    """This event can never succeed: dead-letter it now with `reason` as its error, with no
    further attempts."""

    def __init__(self, reason: str) -> None:
        self.reason = reason or "permanent failure"
        super().__init__(self.reason)
