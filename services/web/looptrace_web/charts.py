"""Charts drawn on the server as SVG (no JavaScript library): the stage timeline of an order
(planned bar, forecast bar, actual end marker) and a bar chart for the analytics page."""

from __future__ import annotations

from datetime import date, datetime
from html import escape
from typing import Any

ROW, LEFT, WIDTH = 26, 150, 640


def _day(value: Any) -> date | None:
    if not value:
        return None
    if isinstance(value, date):
        return value
    text = str(value)
    return datetime.fromisoformat(text).date() if "T" in text else date.fromisoformat(text[:10])


SPAN_KEYS = ("baseline_start", "baseline_end", "forecast_start", "forecast_end", "completed_at")


class _Scale:
    """Days from ``first`` over ``total`` days, as x positions across the chart."""

    def __init__(self, first: date, total: int) -> None:
        self.first, self.total = first, total

    def x(self, d: date) -> float:
        return LEFT + (d - self.first).days / self.total * (WIDTH - LEFT - 10)

    def bar(self, a: Any, b: Any, y: float, h: float, cls: str) -> str:
        start, end = _day(a), _day(b)
        if not start or not end:
            return ""
        w = max(3.0, self.x(end) - self.x(start) + (WIDTH - LEFT - 10) / self.total)
        return f'<rect class="{cls}" x="{self.x(start):.1f}" y="{y:.1f}" width="{w:.1f}" height="{h}"/>'


def _row(scale: _Scale, i: int, s: dict[str, Any]) -> list[str]:
    y = i * ROW + 4
    label = escape(f"{s.get('number')}. {s.get('name')}")
    parts = [
        f'<text x="4" y="{y + 15}" class="label">{label}</text>',
        scale.bar(s.get("baseline_start"), s.get("baseline_end"), y + 2, 8, "planned"),
        scale.bar(s.get("forecast_start"), s.get("forecast_end"), y + 11, 8, "forecast"),
    ]
    done = _day(s.get("completed_at"))
    if done:
        parts.append(
            f'<rect class="actual" x="{scale.x(done):.1f}" y="{y}" width="3" height="21"/>'
        )
    return parts


def stage_timeline(stages: list[dict[str, Any]], target: Any = None) -> str:
    """One row per stage: grey the planned (baseline) span, blue the forecast, a dark tick at
    the actual completion; a red line at the target date."""
    spans = [d for s in stages for d in (_day(s.get(key)) for key in SPAN_KEYS) if d]
    target_day = _day(target)
    spans += [target_day] if target_day else []
    if not spans:
        return ""
    first, last = min(spans), max(spans)
    scale = _Scale(first, max(1, (last - first).days + 1))
    height = ROW * len(stages) + 30
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        'aria-labelledby="tl-title"><title id="tl-title">Stage timeline: planned (grey), '
        "forecast (blue), actual completion (dark mark), target (red)</title>"
    ]
    for i, s in enumerate(stages):
        parts += _row(scale, i, s)
    if target_day:
        tx = scale.x(target_day)
        parts.append(
            f'<line class="target" x1="{tx:.1f}" x2="{tx:.1f}" y1="0" y2="{height - 24}"/>'
        )
    parts.append(f'<text x="{LEFT}" y="{height - 6}" class="axis">{first.isoformat()}</text>')
    parts.append(
        f'<text x="{WIDTH - 10}" y="{height - 6}" class="axis" text-anchor="end">'
        f"{last.isoformat()}</text></svg>"
    )
    return "".join(parts)


def bars(title: str, items: list[tuple[str, float]], unit: str = "") -> str:
    """A horizontal bar chart of (label, value) pairs."""
    if not items:
        return ""
    top = max(v for _, v in items) or 1.0
    height = ROW * len(items) + 10
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img"><title>'
        f"{escape(title)}</title>"
    ]
    for i, (label, value) in enumerate(items):
        y = i * ROW + 4
        w = max(1.0, value / top * (WIDTH - LEFT - 90))
        parts.append(f'<text x="4" y="{y + 15}" class="label">{escape(label)}</text>')
        parts.append(f'<rect class="forecast" x="{LEFT}" y="{y + 3}" width="{w:.1f}" height="16"/>')
        parts.append(
            f'<text x="{LEFT + w + 6:.1f}" y="{y + 15}" class="axis">{value:g}{escape(unit)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
