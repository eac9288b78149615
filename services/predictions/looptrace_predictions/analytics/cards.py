"""The supplier scorecards' queries: each supplier's activity by month, from the monthly
rollup when it can answer, otherwise from the facts (a buyer's view, a range of days).

From the rollup, PostgreSQL sums each supplier's period (a row per supplier, not one per
supplier and month) and the months of all of them (the on-time trend); only the suppliers
whose cards are shown have their months read, for their trend.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from looptrace_predictions.analytics import covered
from looptrace_predictions.analytics import scorecard as sc
from looptrace_predictions.analytics.covered import month_of
from looptrace_predictions.analytics.filters import Filters
from looptrace_predictions.analytics.queries import (
    DEFAULT_LIMIT,
    MONTHS,
    _months_usable,
    _rows,
    _tuples,
)
from looptrace_predictions.analytics.store import INSPECTIONS, ORDERS, REPLIES, STAGES
from looptrace_shared.db import text_array

# the columns of ``Activity`` after its supplier and month, summed from the monthly rollup
ACTIVITY = (
    "sum(finished)::int, sum(on_time)::int, sum(stages)::int, sum(created_days)::int,"
    " sum(first_inspections)::int, sum(first_passed)::int, sum(units)::int,"
    " sum(critical + major + minor)::int, sum(report_hours + reply_hours)::float8,"
    " sum(reports + replies)::int"
)
ACTIVE = "sum(finished + reports + first_inspections + reinspections + replies + stages) > 0"


async def scorecards(
    session: AsyncSession, f: Filters, limit: int = DEFAULT_LIMIT
) -> dict[str, Any]:
    """Cards of the suppliers in ``f``; a supplier is ranked against all its category's peers."""
    peers = replace(f, supplier=None)
    categories = await _categories(session)
    if _months_usable(peers):
        cards, trend = await _rolled_up_cards(session, peers, categories, f.supplier, limit)
    else:
        activity = await _activity(session, peers)
        if f.supplier is None:
            cards = sc.scorecards(activity, categories, limit)
        else:
            everyone, activity = activity, [a for a in activity if a.supplier_id == f.supplier]
            cards = [c | {"monthly": sc.monthly(activity)}
                     for c in sc.scorecards(everyone, categories, 0)
                     if c["supplier_id"] == f.supplier]  # fmt: skip
        trend = sc.on_time_trend(activity)
    return {
        "formula": sc.FORMULA, "weights": sc.WEIGHTS, "suppliers": cards[:limit],
        "on_time_trend": trend,
    }  # fmt: skip


async def _rolled_up_cards(
    session: AsyncSession, f: Filters, categories: dict[str, str], supplier: str | None, limit: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(cards, on-time trend): the period's sums per supplier and per month in one scan, then
    the months of the suppliers shown."""
    where, params = f.where("month", ("category", "season"))
    sql = (f"SELECT GROUPING(month), coalesce(supplier_id, '-'), coalesce(month, min(month)),"
           f" {ACTIVITY} FROM {MONTHS} WHERE {where} GROUP BY GROUPING SETS ((supplier_id), (month))"
           f" HAVING {ACTIVE}")  # fmt: skip
    rows = (await session.execute(text(sql), params)).all()
    cards = sc.ranked([sc.Activity(*r[1:]) for r in rows if r[0]], categories)
    if supplier is not None:
        cards = [c for c in cards if c["supplier_id"] == supplier]
    shown = [c["supplier_id"] for c in cards[:limit]]
    months = await _months_of(session, f, shown)
    for c in cards[:limit]:
        c["monthly"] = sc.monthly(months.get(c["supplier_id"], []))
    if supplier is not None:
        return cards, sc.on_time_trend(months.get(supplier, []))
    return cards, sc.on_time_trend(sc.Activity("-", *r[2:]) for r in rows if not r[0])


async def _months_of(
    session: AsyncSession, f: Filters, suppliers: list[str]
) -> dict[str, list[sc.Activity]]:
    """The active months of ``suppliers`` in ``f``'s period."""
    if not suppliers:
        return {}
    where, params = f.where("month", ("category", "season"))
    ids = text_array(params, "suppliers", suppliers)
    sql = (f"SELECT supplier_id, month, {ACTIVITY} FROM {MONTHS} JOIN unnest({ids}) AS k(key)"
           f" ON supplier_id = k.key WHERE {where} GROUP BY 1, 2 HAVING {ACTIVE}")  # fmt: skip
    out: dict[str, list[sc.Activity]] = {}
    for r in (await session.execute(text(sql), params)).all():
        out.setdefault(r[0], []).append(sc.Activity(*r))
    return out


async def _activity(session: AsyncSession, f: Filters) -> list[sc.Activity]:
    """Each supplier's months from the facts: finished orders, inspections, first reports,
    replies and completed stages as one statement (``UNION ALL``, a kind per part: one round
    trip, not five), then summed into ``Activity`` in the order of its fields."""
    parts, params = [], {}
    for sql, p in (_finished(f), _inspected(f), _first_reports(f), _replies(f), _stages(f)):
        parts.append(sql)
        params |= p
    sql = " UNION ALL ".join(f"SELECT {kind}, * FROM ({part}) AS x{kind}"
                             for kind, part in enumerate(parts))  # fmt: skip
    months: dict[tuple[str, Any], sc.Activity] = {}
    for kind, supplier, month, x, y, u, d in await _tuples(session, sql, params):
        key = (supplier or "-", month)
        a = months.get(key) or months.setdefault(key, sc.Activity(*key))
        if kind == 0:
            a.finished, a.on_time = int(x), int(y)
        elif kind == 1:
            a.first_inspections, a.first_passed, a.units, a.defects = int(x), int(y), int(u), int(d)
        elif kind == 4:
            a.stages, a.created_days = int(x), int(y)
        else:  # first reports and replies: hours waited, and how many waits
            a.wait_hours, a.waits = a.wait_hours + float(x), a.waits + int(y)
    return list(months.values())


# each part's columns: supplier, month, then four measures (x, y, u, d) as float8
def _finished(f: Filters) -> tuple[str, dict[str, Any]]:
    where, params = f.where("finished_on")
    return (f"SELECT supplier_id, {month_of('finished_on')}, count(*)::float8,"
            " (count(*) FILTER (WHERE on_time))::float8, 0::float8, 0::float8"
            f" FROM {ORDERS} WHERE {where} AND on_time IS NOT NULL GROUP BY 1, 2"), params  # fmt: skip


def _inspected(f: Filters) -> tuple[str, dict[str, Any]]:
    where, params = f.where("decided_on")
    return (f"SELECT supplier_id, {month_of('decided_on')}, (count(*) FILTER (WHERE first))::float8,"
            " (count(*) FILTER (WHERE first AND passed))::float8, coalesce(sum(units), 0)::float8,"
            " coalesce(sum(critical + major + minor), 0)::float8"
            f" FROM {INSPECTIONS} WHERE {where} AND decided_on IS NOT NULL GROUP BY 1, 2"), params  # fmt: skip


def _first_reports(f: Filters) -> tuple[str, dict[str, Any]]:
    where, params = f.where("assigned_on")
    return (f"SELECT supplier_id, {month_of('assigned_on')}, sum(first_report_hours),"
            f" count(*)::float8, 0::float8, 0::float8 FROM {ORDERS} WHERE {where}"
            " AND first_report_hours IS NOT NULL GROUP BY 1, 2"), params  # fmt: skip


def _replies(f: Filters) -> tuple[str, dict[str, Any]]:
    where, params = f.where("answered_on", ("buyer", "supplier"))
    return (f"SELECT supplier_id, {month_of('answered_on')}, sum(hours), count(*)::float8,"
            f" 0::float8, 0::float8 FROM {REPLIES} WHERE {where} GROUP BY 1, 2"), params  # fmt: skip


def _stages(f: Filters) -> tuple[str, dict[str, Any]]:
    """Completed stages and the lateness they created by supplier and month: from the
    suppliers' totals (``covered``) unless it is a buyer's view."""
    if f.buyer is None:
        stages, params = covered.source(covered.MONTHLY_STAGES, f)
        return (f"SELECT supplier_id, month, sum(n)::float8, sum(created_sum)::float8, 0::float8,"
                f" 0::float8 FROM {stages} GROUP BY 1, 2 HAVING sum(n) > 0"), params  # fmt: skip
    where, params = f.where("completed_on")
    return (f"SELECT supplier_id, {month_of('completed_on')}, count(*)::float8,"
            " sum(created_days)::float8, 0::float8, 0::float8"
            f" FROM {STAGES} WHERE {where} GROUP BY 1, 2"), params  # fmt: skip


async def _categories(session: AsyncSession) -> dict[str, str]:
    """Each supplier's category: the one most of its activity is in."""
    rows = await _rows(
        session,
        f"SELECT DISTINCT ON (supplier_id) supplier_id, category FROM {MONTHS}"
        " WHERE supplier_id <> '-' AND category <> '-' GROUP BY supplier_id, category"
        " ORDER BY supplier_id, sum(finished + reports + first_inspections) DESC, category",
        {},
    )
    return {r.supplier_id: r.category for r in rows}
