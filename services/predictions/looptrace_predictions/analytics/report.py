"""The analytics report: one self-contained HTML file (inline SVG charts and CSS, no scripts)."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from looptrace_predictions.analytics import charts, queries
from looptrace_predictions.analytics.cards import scorecards
from looptrace_predictions.analytics.filters import Filters

REPORT_ROWS = 25

STYLE = """
body{font:14px/1.45 system-ui,sans-serif;color:#0f172a;margin:2rem auto;max-width:980px;padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.1rem;margin-top:2rem;border-bottom:1px solid #e2e8f0}
.muted{color:#64748b}.kpis{display:flex;gap:1rem;flex-wrap:wrap}.kpi{background:#f1f5f9;border-radius:8px;padding:.6rem 1rem}
.kpi b{display:block;font-size:1.4rem}table{border-collapse:collapse;width:100%;font-size:13px}
td,th{padding:.25rem .5rem;border-bottom:1px solid #e2e8f0;text-align:right}td:first-child,th:first-child{text-align:left}
.grade-A{color:#16a34a}.grade-B{color:#2563eb}.grade-C{color:#d97706}.grade-D{color:#dc2626}svg.chart{max-width:100%;height:auto}
"""


async def gather(session: AsyncSession, f: Filters) -> dict[str, Any]:
    return {
        "overview": await queries.overview(session, f),
        "stages": await queries.stage_performance(session, f, REPORT_ROWS),
        "quality": await queries.quality(session, f, REPORT_ROWS),
        "delivery": await queries.delivery(session, f),
        "scorecards": await scorecards(session, f, REPORT_ROWS),
    }


def render(data: dict[str, Any], f: Filters, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    cards = data["scorecards"]
    body = [
        f"<h1>LoopTrace production analytics</h1><p class='muted'>{html.escape(_scope(f))}"
        f" · generated {now:%Y-%m-%d %H:%M} UTC</p>",
        _kpis(data),
        *_bottleneck_section(data["stages"]),
        "<h2>On-time delivery trend</h2>",
        charts.on_time_trend(cards["on_time_trend"]),
        *_delivery_section(data["delivery"]),
        "<h2>Supplier scorecards</h2>",
        f"<p class='muted'>{html.escape(cards['formula'])}</p>",
        _scorecard_table(cards["suppliers"]),
        "<h2>QC effectiveness by supplier</h2>",
        _quality_table(data["quality"]["by_supplier"]),
    ]
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>LoopTrace analytics</title>"
        f"<style>{STYLE}</style></head><body>{''.join(body)}</body></html>"
    )


def _bottleneck_section(stages: dict[str, Any]) -> list[str]:
    bottleneck = stages["bottleneck"]["stage"] if stages["bottleneck"] else None
    return [
        "<h2>Stage bottlenecks</h2>",
        f"<p>The bottleneck is <b>{html.escape(bottleneck or 'none')}</b>: lateness is counted at the stage that created it.</p>",
        charts.bottlenecks(stages["stages"], bottleneck),
    ]


def _delivery_section(delivery: dict[str, Any]) -> list[str]:
    return [
        "<h2>Delivery projection</h2>",
        f"<p>{delivery['open_orders']} open orders; projected on time: {_pct(delivery['projected_on_time_pct'])}"
        f" (model: {_pct(delivery['model_on_time_pct'])}).</p>",
        charts.delivery(delivery["weeks"]),
        _table(
            ["order", "supplier", "target", "projected", "days late"],
            [
                [
                    r["order_number"] or r["order_id"],
                    r["supplier_id"],
                    r["target_date"],
                    r["projected_completion"],
                    r["projected_late_days"],
                ]
                for r in delivery["risk_orders"]
            ],
            "risk-orders",
        ),  # fmt: skip
    ]


def _quality_table(by_supplier: list[dict[str, Any]]) -> str:
    return _table(
        [
            "supplier",
            "first pass %",
            "re-inspections",
            "critical/100",
            "major/100",
            "minor/100",
            "DHU",
        ],
        [
            [
                q["key"],
                _pct(q["first_pass_pct"]),
                q["reinspections"],
                q["critical_per_100"],
                q["major_per_100"],
                q["minor_per_100"],
                q["dhu"],
            ]
            for q in by_supplier
        ],
        "quality",
    )  # fmt: skip


def _scope(f: Filters) -> str:
    parts = [f"{k} {v}" for k, v in (("buyer", f.buyer), ("supplier", f.supplier), ("category", f.category),
                                     ("season", f.season), ("from", f.start), ("to", f.end)) if v]  # fmt: skip
    return ", ".join(parts) or "all orders"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:g} %"


def _kpis(data: dict[str, Any]) -> str:
    o, q = data["overview"], data["quality"]["overall"]
    items = [("orders", o["orders"]), ("open", o["open"]), ("delayed", o["delayed"]),
             ("QC first pass", _pct(q["first_pass_pct"])), ("DHU", q["dhu"] if q["dhu"] is not None else "n/a")]  # fmt: skip
    return (
        "<div class='kpis'>"
        + "".join(
            f"<div class='kpi'><b>{html.escape(str(v))}</b>{html.escape(k)}</div>" for k, v in items
        )
        + "</div>"
    )


def _table(head: list[str], rows: list[list[Any]], css_class: str) -> str:
    if not rows:
        return f"<p class='muted {css_class}'>none in this period</p>"
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    trs = "".join("<tr>" + "".join(f"<td>{_cell(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table class='{css_class}'><thead><tr>{th}</tr></thead><tbody>{trs}</tbody></table>"


def _cell(value: Any) -> str:
    if isinstance(value, charts.Markup):
        return str(value)
    return html.escape("–" if value is None else str(value))


def _scorecard_table(cards: list[dict[str, Any]]) -> str:
    rows = [[c["supplier_id"], c["category"], _pct(c["on_time_pct"]), c["avg_slip_days_per_stage"],
             _pct(c["qc_first_pass_pct"]), c["dhu"], c["responsiveness_hours"],
             charts.Markup(f"<b class='grade-{c['grade']}'>{c['score']} {c['grade']}</b>" if c["grade"] else "–"),
             c["peer_percentile"], charts.Markup(charts.sparkline([m["score"] for m in c["monthly"]]))]
            for c in cards]  # fmt: skip
    head = ["supplier", "category", "on time", "slip d/stage", "first pass", "DHU", "reply h",
            "score", "peer pct", "trend"]  # fmt: skip
    return _table(head, rows, "scorecards")
