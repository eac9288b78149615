"""Charts of the report as inline SVG (matplotlib, no JavaScript, nothing fetched to view them)."""

from __future__ import annotations

import io
import re
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

plt.rcParams.update({
    "svg.fonttype": "none", "font.size": 9, "axes.spines.top": False,
    "axes.spines.right": False, "svg.hashsalt": "looptrace",
})  # fmt: skip
INK, ACCENT, LATE, GOOD = "#334155", "#2563eb", "#dc2626", "#16a34a"


def _svg(figure: Any, css_class: str) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(figure)
    text = buffer.getvalue()
    svg = re.sub(r"<metadata>.*?</metadata>", "", text[text.index("<svg") :], flags=re.S)
    return svg.replace("<svg ", f'<svg class="chart {css_class}" role="img" ', 1)


def empty(css_class: str, message: str) -> str:
    return f'<p class="chart-empty {css_class}">{message}</p>'


def bottlenecks(stages: list[dict[str, Any]], bottleneck: str | None) -> str:
    if not stages:
        return empty("bottlenecks", "no completed stages in this period")
    names = [s["stage"] for s in stages][::-1]
    created = [s["lateness_created_days"] for s in stages][::-1]
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(names) + 1))
    colours = [LATE if n == bottleneck else ACCENT for n in names]
    ax.barh(names, created, color=colours)
    ax.set_xlabel("days of lateness created at the stage")
    for y, (value, s) in enumerate(zip(created, stages[::-1], strict=True)):
        ax.annotate(f"{value} d · p90 overrun {s['p90_overrun_days']} d", (value, y),
                    xytext=(4, -3), textcoords="offset points", color=INK, fontsize=8)  # fmt: skip
    return _svg(fig, "bottlenecks")


def on_time_trend(trend: list[dict[str, Any]]) -> str:
    if not trend:
        return empty("on-time", "no orders finished in this period")
    months = [t["month"] for t in trend]
    fig, ax = plt.subplots(figsize=(7, 2.6))
    ax.plot(months, [t["on_time_pct"] for t in trend], marker="o", color=ACCENT)
    ax.set_ylim(0, 105)
    ax.set_ylabel("on-time delivery %")
    ax.tick_params(axis="x", rotation=45)
    return _svg(fig, "on-time")


def delivery(weeks: list[dict[str, Any]]) -> str:
    if not weeks:
        return empty("delivery", "no open orders")
    labels = [w["week"][5:] for w in weeks]
    on_time = [w["on_time_by_plan"] for w in weeks]
    late = [w["late_by_plan"] for w in weeks]
    fig, ax = plt.subplots(figsize=(7, 2.6))
    ax.bar(labels, on_time, color=GOOD, label="on time by production's forecast")
    ax.bar(labels, late, bottom=on_time, color=LATE, label="projected late")
    ax.set_ylabel("orders due (week of)")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.tick_params(axis="x", rotation=45)
    ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1, 1))
    return _svg(fig, "delivery")


def sparkline(points: list[float | None]) -> str:
    values = [p for p in points if p is not None]
    if not values:
        return ""
    fig, ax = plt.subplots(figsize=(1.4, 0.35))
    ax.plot(range(len(points)), [p if p is not None else float("nan") for p in points],
            color=ACCENT, linewidth=1.2, marker="o" if len(values) == 1 else None, markersize=2)  # fmt: skip
    ax.set_ylim(0, 100)
    ax.axis("off")
    return _svg(fig, "sparkline")


class Markup(str):
    """HTML that is already safe (a chart, a tag we built): put into the page as it is."""
