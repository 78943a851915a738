"""When a failed event is tried again, and when it goes to the dead-letter stream.

As the platform does: attempt n failed -> wait `delays[n-1]` (the last delay repeats) ->
attempt n+1; attempt `max_attempts` failed -> DLQ. With the defaults (60, 300, 1800 s;
3 attempts) an event is tried at 0, +1 min and +6 min; the 30 min step is used only when
BUS_MAX_ATTEMPTS is raised.
"""
from __future__ import annotations

from dataclasses import dataclass

from bot.settings import Settings


@dataclass(frozen=True)
class RetryPolicy:
    delays: tuple[float, ...] = (60.0, 300.0, 1800.0)
    max_attempts: int = 3

    @classmethod
    def from_settings(cls, s: Settings) -> RetryPolicy:
        return cls(s.retry_delays, s.bus_max_attempts)

    def gives_up(self, attempt: int) -> bool:
        """True when the failed `attempt` was the last one allowed."""
        return attempt >= self.max_attempts

    def delay_after(self, attempt: int) -> float:
        """Seconds to wait after failed `attempt` (1-based) before the next one."""
        return self.delays[min(attempt, len(self.delays)) - 1]
