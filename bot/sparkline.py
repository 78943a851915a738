"""Trends in one line of text: a sparkline (`▁▂▃▅▇`) and the change it shows
(`DLQ 220 -> 620 in 10m ▁▂▃▅▇`). Plain text, so Slack, the console and the dashboard
draw the same thing; no Redis, no clock of its own.

Points are (epoch ms, value) pairs, oldest first; a value of None is a check that could not
measure (drawn as a gap, never as zero).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.timeparse import human_age

BARS = "▁▂▃▄▅▆▇█"
GAP = " "
MIN_SPAN = 0.1  # of the highest value: the least range the bars are scaled to
Point = tuple[int, "float | None"]


def sparkline(values: Sequence[float | None]) -> str:
    """One bar per value, scaled between the lowest and highest known value; a gap for None.
    A change smaller than a tenth of the highest value is drawn as the small change it is
    (269 -> 270 stays flat), and a flat series lies on the lowest bar. Empty when no value
    is known."""
    known = [v for v in values if v is not None]
    if not known:
        return ""
    lo, hi = min(known), max(known)
    span = max(hi - lo, abs(hi) * MIN_SPAN) or 1
    top = len(BARS) - 1
    return "".join(GAP if v is None else BARS[min(top, int((v - lo) / span * len(BARS)))] for v in values)


def buckets(points: Sequence[Point], start: int, end: int, n: int) -> list[float | None]:
    """The highest value in each of `n` equal buckets of (start, end], oldest first; None
    where nothing was measured."""
    width = max(1, (end - start) // n)
    out: list[float | None] = [None] * n
    for ms, value in points:
        if value is None or not start < ms <= end:
            continue
        i = min(n - 1, (ms - start - 1) // width)
        current = out[i]
        out[i] = value if current is None else max(current, value)
    return out


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() or abs(value) >= 100 else f"{value:,.2f}"


@dataclass(frozen=True)
class Trend:
    """How a metric moved over a window: first and last known value, the time between
    them, and the sparkline of the window."""
    first: float
    last: float
    span_ms: int
    bars: str

    @property
    def delta(self) -> float:
        return self.last - self.first

    def text(self, label: str = "", fmt: Callable[[float], str] = _number) -> str:
        """`DLQ 220 -> 620 in 10m ▁▂▃▅▇` (a steady value: `DLQ steady at 220 for 10m ▁▁▁`)."""
        head = f"{label} " if label else ""
        span = human_age(self.span_ms)
        if self.first == self.last:
            return f"{head}steady at {fmt(self.last)} for {span} {self.bars}".rstrip()
        return f"{head}{fmt(self.first)} -> {fmt(self.last)} in {span} {self.bars}".rstrip()


def trend(points: Sequence[Point], now: int, window_ms: int, n: int = 12) -> Trend | None:
    """The trend of the points inside the last `window_ms` before `now`, drawn in `n`
    bars (from the first with a value); None when fewer than two points in it hold a value."""
    start = now - window_ms
    known = [(ms, v) for ms, v in points if v is not None and start < ms <= now]
    if len(known) < 2:
        return None
    (t0, first), (t1, last) = known[0], known[-1]
    return Trend(first, last, t1 - t0, sparkline(buckets(known, start, now, n)).lstrip(GAP))
