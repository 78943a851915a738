"""Server-rendered SVG charts of the last 24 h: geometry computed here, drawn by the template
(the `chart` macro of `templates/html/_macros.html`) with SVG attributes only, so the page needs no script and no
inline style (the Content-Security-Policy allows neither)."""
from __future__ import annotations

from dataclasses import dataclass, field

from bot.services.history import DAY_MS, HOUR_MS
from bot.web.dash_history import BUCKET_MS, DaySummary

WIDTH, HEIGHT, PAD_L, PAD_B, PAD_T = 640, 170, 48, 22, 10
GAP_MS = HOUR_MS  # no sample for this long: the line breaks instead of bridging the gap
PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2")


@dataclass
class Line:
    name: str
    colour: str
    segments: list[str]  # SVG polyline `points`, split where there is no data


@dataclass
class Bar:
    x: float
    y: float
    w: float
    h: float
    label: str


@dataclass
class Chart:
    title: str
    empty: bool
    top: str  # the y axis's highest value, as text
    lines: list[Line] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)
    threshold: float | None = None  # y of the warning line, if inside the chart
    ticks: list[tuple[float, str]] = field(default_factory=list)  # x, "HH:00"
    width: int = WIDTH
    height: int = HEIGHT
    left: int = PAD_L
    bottom: int = HEIGHT - PAD_B


def _x(ms: int, now: int) -> float:
    return PAD_L + (WIDTH - PAD_L - 4) * (ms - (now - DAY_MS)) / DAY_MS


def _y(v: float, top: float) -> float:
    return PAD_T + (HEIGHT - PAD_B - PAD_T) * (1 - v / top)


def _ticks(now: int) -> list[tuple[float, str]]:
    first = (now - DAY_MS) // (6 * HOUR_MS) * 6 * HOUR_MS + 6 * HOUR_MS
    out = []
    for ms in range(first, now + 1, 6 * HOUR_MS):
        hh = (ms // HOUR_MS) % 24
        out.append((round(_x(ms, now), 1), f"{hh:02d}:00"))
    return out


def _top(values: list[float], warn: float | None) -> float:
    hi = max([*values, warn or 0, 1.0])
    return hi * 1.1


def _centre(start: int, now: int) -> int:
    """Where a bucket's point goes: its middle, never left of the chart's first moment."""
    return max(start + BUCKET_MS // 2, now - DAY_MS)


def _segments(points: list[tuple[int, float | None]], now: int, top: float) -> list[str]:
    segs: list[str] = []
    cur: list[str] = []
    prev_ms = None
    for ms, v in points:
        gap = prev_ms is not None and ms - prev_ms > GAP_MS
        if v is None or gap:
            if cur:
                segs.append(" ".join(cur))
            cur = []
        if v is not None:
            cur.append(f"{_x(ms, now):.1f},{_y(v, top):.1f}")
        prev_ms = ms
    if cur:
        segs.append(" ".join(cur))
    return [s if " " in s else f"{s} {s}" for s in segs]  # a lone point shows as a round cap


def line_chart(title: str, bucketed: dict[str, list[tuple[int, float | None]]], now: int,
               warn: float | None = None) -> Chart:
    """`bucketed`: per series, (time, highest value of its bucket or None), oldest first."""
    known = [v for pts in bucketed.values() for _, v in pts if v is not None]
    top = _top(known, warn)
    chart = Chart(title=title, empty=not known, top=f"{top:,.0f}", ticks=_ticks(now))
    for i, (name, pts) in enumerate(sorted(bucketed.items())):
        chart.lines.append(Line(name, PALETTE[i % len(PALETTE)], _segments(pts, now, top)))
    if warn is not None and known:
        chart.threshold = round(_y(warn, top), 1)
    return chart


def bar_chart(title: str, hours: list[tuple[int, int | None]], now: int) -> Chart:
    """One bar per clock hour (start ms, value), placed on the time axis; the current hour's
    bar is as wide as the part of it that has passed."""
    known = [float(v) for _, v in hours if v is not None]
    top = _top(known, None)
    chart = Chart(title=title, empty=not known, top=f"{top:,.0f}", ticks=_ticks(now))
    for start, v in hours:
        if v is None:
            continue
        y = _y(float(v), top)
        x0, x1 = _x(max(start, now - DAY_MS), now), _x(min(start + HOUR_MS, now), now)
        hh = (start // HOUR_MS) % 24
        chart.bars.append(Bar(round(x0 + 1, 1), round(y, 1), round(max(1.0, x1 - x0 - 2), 1),
                              round(HEIGHT - PAD_B - y, 1), f"{hh:02d}:00: {v:,} arrivals"))
    return chart


def overview_charts(day: DaySummary, now: int, dlq_warn: float, lag_warn: float) -> list[Chart]:
    dlq = line_chart("DLQ size", {"DLQ": [(_centre(t, now), b.dlq) for t, b in day.buckets]}, now, dlq_warn)
    arrivals = bar_chart("DLQ arrivals per hour", day.hours, now)
    lag = line_chart("Consumer lag", {g: [(_centre(t, now), b.lags[g]) for t, b in day.buckets if g in b.lags]
                                      for g in day.groups}, now, lag_warn)
    return [dlq, arrivals, lag]
