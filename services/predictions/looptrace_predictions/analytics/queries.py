"""The figures' queries: aggregates from the read model, turned into figures by ``figures``.

Stage figures come from the monthly rollups when no buyer or supplier is asked for and the
range is whole months (the admin's dashboard over 10^6 stage rows); otherwise from the stage
facts, through the buyer/supplier indexes. Both paths hand ``figures`` the same rows.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from looptrace_predictions.analytics import figures as fig
from looptrace_predictions.analytics import scorecard as sc
from looptrace_predictions.analytics.filters import Filters
from looptrace_predictions.analytics.store import (
    HISTOGRAM,
    INSPECTIONS,
    ORDERS,
    REPLIES,
    STAGES,
    SUPPLIERS,
)
from looptrace_predictions.analytics.tables import OrderCountRow, QcWeekRow, SupplierMonthRow
from looptrace_predictions.models import OrderFeaturesRow

COUNTS = OrderCountRow.__table__.fullname
MONTHS = SupplierMonthRow.__table__.fullname
WEEKS = QcWeekRow.__table__.fullname

FEATURES = OrderFeaturesRow.__table__.fullname
BASELINE = "baseline"
DEFAULT_LIMIT = 50


async def _rows(session: AsyncSession, sql: str, params: dict[str, Any]) -> list[Any]:
    return list((await session.execute(text(sql), params)).all())


# ---- overview ---------------------------------------------------------------------------


async def overview(session: AsyncSession, f: Filters) -> dict[str, Any]:
    if _use_rollups(f):
        where, params = f.where("month", ("category", "season"))
        source, n = f"{COUNTS} WHERE {where}", "sum(n)"
        stage = "nullif(current_stage, '-')"
    else:
        where, params = f.where("placed_on")
        source, n, stage = f"{ORDERS} WHERE {where}", "count(*)", "current_stage"
    statuses = await _rows(
        session,
        f"SELECT coalesce(workflow_status, 'unknown') AS w, coalesce(production_status,"
        f" 'unknown') AS p, {n} AS n, coalesce({n} FILTER (WHERE is_open), 0) AS open,"
        f" coalesce({n} FILTER (WHERE delayed), 0) AS delayed FROM {source} GROUP BY 1, 2 HAVING {n} > 0",
        params,
    )
    wip = await _rows(
        session,
        f"SELECT {stage} AS stage, {n} AS n FROM {source}"
        f" AND is_open AND {stage} IS NOT NULL GROUP BY 1 HAVING {n} > 0 ORDER BY 2 DESC, 1",
        params,
    )
    return {
        "orders": sum(r.n for r in statuses),
        "open": sum(r.open for r in statuses),
        "delayed": sum(r.delayed for r in statuses),
        "by_workflow_status": _counted(statuses, "w"),
        "by_production_status": _counted(statuses, "p"),
        "wip_by_stage": [{"stage": r.stage, "orders": r.n} for r in wip],
    }


def _counted(rows: list[Any], attr: str) -> list[dict[str, Any]]:
    counts: dict[str, int] = defaultdict(int)
    for r in rows:
        counts[getattr(r, attr)] += r.n
    return [{"status": k, "orders": v} for k, v in sorted(counts.items(), key=lambda kv: -kv[1])]


# ---- stage performance ---------------------------------------------------------------------


def _use_rollups(f: Filters) -> bool:
    return f.buyer is None and f.supplier is None and f.whole_months


def _bin_source(f: Filters) -> tuple[str, str, dict[str, Any]]:
    """(table, measure SQL, params+where) for overrun bins by stage."""
    if _use_rollups(f):
        where, params = f.where("month", ("category", "season"))
        measures = "sum(n) AS n, sum(days_sum) AS d, sum(created_sum) AS c, sum(slipped_n) AS s"
        return f"{HISTOGRAM} WHERE {where}", measures, params
    where, params = f.where("completed_on")
    measures = (
        "count(*) AS n, sum(days_in_stage) AS d, sum(created_days) AS c,"
        " count(*) FILTER (WHERE created_days > 0) AS s"
    )
    return f"{STAGES} WHERE {where}", measures, params


def _bins(rows: list[Any]) -> list[fig.OverrunBin]:
    return [
        fig.OverrunBin(
            r.stage_number, r.stage_name, r.overrun_days, int(r.n), int(r.d), int(r.c), int(r.s)
        )
        for r in rows
    ]


async def stage_performance(
    session: AsyncSession, f: Filters, limit: int = DEFAULT_LIMIT
) -> dict[str, Any]:
    source, measures, params = _bin_source(f)
    keys = "stage_number, stage_name, overrun_days"
    overall = await _rows(
        session, f"SELECT {keys}, {measures} FROM {source} GROUP BY {keys}", params
    )
    result = fig.stage_performance(_bins(overall))
    per_category = await _rows(
        session,
        f"SELECT category, {keys}, {measures} FROM {source} GROUP BY category, {keys}",
        params,
    )
    result["by_category"] = _by_category(per_category)
    result["by_supplier"] = await _by_supplier(session, f, limit)
    return result


def _by_category(rows: list[Any]) -> list[dict[str, Any]]:
    grouped: dict[str, list[Any]] = defaultdict(list)
    for r in rows:
        grouped[r.category or "-"].append(r)
    out = []
    for category, rs in sorted(grouped.items()):
        perf = fig.stage_performance(_bins(rs))
        out += [{"category": category, **row} for row in perf["stages"]]
    return out


async def _by_supplier(session: AsyncSession, f: Filters, limit: int) -> list[dict[str, Any]]:
    if _months_usable(f):
        where, params = f.where("month", ("supplier", "category", "season"))
        source = f"{SUPPLIERS} WHERE {where}"
        measures = "sum(n) AS n, sum(days_sum) AS d, sum(overrun_sum) AS o, sum(created_sum) AS c, sum(slipped_n) AS s"
    else:
        where, params = f.where("completed_on")
        source = f"{STAGES} WHERE {where}"
        measures = (
            "count(*) AS n, sum(days_in_stage) AS d, sum(overrun_days) AS o, sum(created_days) AS c,"
            " count(*) FILTER (WHERE created_days > 0) AS s"
        )
    rows = await _rows(
        session, f"SELECT supplier_id, stage_name, {measures} FROM {source} GROUP BY 1, 2", params
    )
    summary = fig.supplier_stage_summary(
        fig.SupplierStage(
            r.supplier_id or "-", r.stage_name, int(r.n), int(r.d), int(r.o), int(r.c), int(r.s)
        )
        for r in rows
    )
    return summary[:limit]


# ---- QC effectiveness ------------------------------------------------------------------------

QC_MEASURES = (
    "count(*) FILTER (WHERE first) AS fi, count(*) FILTER (WHERE first AND passed) AS fp,"
    " count(*) FILTER (WHERE NOT first) AS re, coalesce(sum(units), 0) AS u,"
    " coalesce(sum(critical), 0) AS cr, coalesce(sum(major), 0) AS ma,"
    " coalesce(sum(minor), 0) AS mi"
)


def _qc(key: str, r: Any) -> fig.QcCounts:
    return fig.QcCounts(
        key, int(r.fi), int(r.fp), int(r.re), int(r.u), int(r.cr), int(r.ma), int(r.mi)
    )


ROLLUP_QC = (
    "sum(first_inspections) AS fi, sum(first_passed) AS fp, sum(reinspections) AS re,"
    " sum(units) AS u, sum(critical) AS cr, sum(major) AS ma, sum(minor) AS mi"
)


def _months_usable(f: Filters) -> bool:
    """The supplier-month rollup answers anything but a buyer's view or a range of days."""
    return f.buyer is None and f.whole_months


async def quality(session: AsyncSession, f: Filters, limit: int = DEFAULT_LIMIT) -> dict[str, Any]:
    if _months_usable(f):
        where, params = f.where("month", ("supplier", "category", "season"))
        decided, measures = f"{MONTHS} WHERE {where}", ROLLUP_QC
    else:
        where, params = f.where("decided_on")
        decided, measures = f"{INSPECTIONS} WHERE {where} AND decided_on IS NOT NULL", QC_MEASURES
    by: dict[str, list[fig.QcCounts]] = {}
    for dim in ("supplier_id", "category"):
        rows = await _rows(
            session, f"SELECT {dim} AS k, {measures} FROM {decided} GROUP BY 1", params
        )
        by[dim] = [_qc(r.k or "-", r) for r in rows if r.fi + r.re > 0]
    return {
        "overall": fig.qc_row(fig.total_qc("all", by["category"])),
        "by_supplier": sorted(map(fig.qc_row, by["supplier_id"]), key=_worst_first)[:limit],
        "by_category": sorted(map(fig.qc_row, by["category"]), key=lambda r: r["key"]),
        "dhu_trend": await _dhu_trend(session, f),
    }


async def _dhu_trend(session: AsyncSession, f: Filters) -> list[dict[str, Any]]:
    if f.buyer is None and f.supplier is None:
        where, params = f.where("week", ("category", "season"))
        sql = f"SELECT week AS k, {ROLLUP_QC} FROM {WEEKS} WHERE {where} GROUP BY 1 ORDER BY 1"
    else:
        where, params = f.where("decided_on")
        sql = (f"SELECT date_trunc('week', decided_on)::date AS k, {QC_MEASURES} FROM {INSPECTIONS}"
               f" WHERE {where} AND decided_on IS NOT NULL AND inline GROUP BY 1 ORDER BY 1")  # fmt: skip
    rows = await _rows(session, sql, params)
    return [{"week": r.k.isoformat(), **fig.qc_row(_qc(r.k.isoformat(), r))} for r in rows if r.u]


def _worst_first(row: dict[str, Any]) -> tuple[float, str]:
    return (row["first_pass_pct"] if row["first_pass_pct"] is not None else 101.0, row["key"])


# ---- delivery projection ---------------------------------------------------------------------


LATE_BY = (
    "greatest(0, coalesce(o.projected_completion - o.target_date, 0),"
    " coalesce(round(m.model_delay)::int, 0))"
)


async def delivery(session: AsyncSession, f: Filters) -> dict[str, Any]:
    where, params = f.where("target_date", prefix="o.")
    source = (
        f"{ORDERS} o LEFT JOIN LATERAL (SELECT CASE WHEN p.model_version <> '{BASELINE}'"
        f" THEN p.expected_delay_days END AS model_delay FROM {FEATURES} p"
        " WHERE p.order_id = o.order_id AND p.closed_at IS NULL) m ON TRUE"
        f" WHERE o.is_open AND o.target_date IS NOT NULL AND {where}"
    )
    weeks = await _rows(
        session,
        "SELECT date_trunc('week', o.target_date)::date AS w, count(*) AS due,"
        " count(*) FILTER (WHERE o.projected_completion IS NULL OR o.projected_completion <= o.target_date) AS ok,"
        " count(m.model_delay) AS modelled, count(*) FILTER (WHERE m.model_delay < 0.5) AS model_ok"
        f" FROM {source} GROUP BY 1 ORDER BY 1",
        params,
    )
    risky = await _rows(
        session,
        "SELECT o.order_id, o.order_number, o.supplier_id, o.target_date, o.projected_completion,"
        f" m.model_delay FROM {source} AND {LATE_BY} > 0"
        f" ORDER BY {LATE_BY} DESC, o.target_date, o.order_id LIMIT {fig.TOP_RISK_ORDERS}",
        params,
    )
    return fig.delivery_projection(
        [fig.WeekCounts(r.w, r.due, r.ok, r.modelled, r.model_ok) for r in weeks],
        [fig.OpenOrder(r.order_id, r.order_number, r.supplier_id, r.target_date,
                       r.projected_completion, r.model_delay) for r in risky],
    )  # fmt: skip


# ---- supplier scorecards ----------------------------------------------------------------------


def _month(column: str) -> str:
    return f"date_trunc('month', {column})::date"


async def _activity(session: AsyncSession, f: Filters) -> list[sc.Activity]:
    months: dict[tuple[str, Any], sc.Activity] = {}

    def at(supplier: str | None, month: Any) -> sc.Activity:
        key = (supplier or "-", month)
        return months.setdefault(key, sc.Activity(*key))

    if _months_usable(f):
        await _rolled_up_activity(session, f, at)
    else:
        await _order_activity(session, f, at)
        await _waits(session, f, at)
    await _stage_activity(session, f, at)
    return list(months.values())


async def _rolled_up_activity(session: AsyncSession, f: Filters, at: Any) -> None:
    where, params = f.where("month", ("supplier", "category", "season"))
    sql = (f"SELECT supplier_id, month AS m, sum(finished) AS n, sum(on_time) AS ok, {ROLLUP_QC},"
           " sum(report_hours + reply_hours) AS h, sum(reports + replies) AS w"
           f" FROM {MONTHS} WHERE {where} GROUP BY 1, 2")  # fmt: skip
    for r in await _rows(session, sql, params):
        a = at(r.supplier_id, r.m)
        a.finished, a.on_time = int(r.n), int(r.ok)
        a.first_inspections, a.first_passed = int(r.fi), int(r.fp)
        a.units, a.defects = int(r.u), int(r.cr + r.ma + r.mi)
        a.wait_hours, a.waits = float(r.h), int(r.w)


async def _order_activity(session: AsyncSession, f: Filters, at: Any) -> None:
    where, params = f.where("finished_on")
    for r in await _rows(session, f"SELECT supplier_id, {_month('finished_on')} AS m, count(*) AS n,"
                         f" count(*) FILTER (WHERE on_time) AS ok FROM {ORDERS}"
                         f" WHERE {where} AND on_time IS NOT NULL GROUP BY 1, 2", params):  # fmt: skip
        a = at(r.supplier_id, r.m)
        a.finished, a.on_time = int(r.n), int(r.ok)
    where, params = f.where("decided_on")
    for r in await _rows(session, f"SELECT supplier_id, {_month('decided_on')} AS m, {QC_MEASURES}"
                         f" FROM {INSPECTIONS} WHERE {where} AND decided_on IS NOT NULL"
                         " GROUP BY 1, 2", params):  # fmt: skip
        a = at(r.supplier_id, r.m)
        a.first_inspections, a.first_passed = int(r.fi), int(r.fp)
        a.units, a.defects = int(r.u), int(r.cr + r.ma + r.mi)


async def _stage_activity(session: AsyncSession, f: Filters, at: Any) -> None:
    if _months_usable(f):
        where, params = f.where("month", ("supplier", "category", "season"))
        sql = (f"SELECT supplier_id, month AS m, sum(n) AS n, sum(created_sum) AS c"
               f" FROM {SUPPLIERS} WHERE {where} GROUP BY 1, 2 HAVING sum(n) > 0")  # fmt: skip
    else:
        where, params = f.where("completed_on")
        sql = (f"SELECT supplier_id, {_month('completed_on')} AS m, count(*) AS n,"
               f" sum(created_days) AS c FROM {STAGES} WHERE {where} GROUP BY 1, 2")  # fmt: skip
    for r in await _rows(session, sql, params):
        a = at(None if r.supplier_id == "-" else r.supplier_id, r.m)
        a.stages, a.created_days = int(r.n), int(r.c)


async def _waits(session: AsyncSession, f: Filters, at: Any) -> None:
    where, params = f.where("assigned_on")
    first_reports = (f"SELECT supplier_id, {_month('assigned_on')} AS m, sum(first_report_hours)"
                     f" AS h, count(*) AS n FROM {ORDERS} WHERE {where}"
                     " AND first_report_hours IS NOT NULL GROUP BY 1, 2")  # fmt: skip
    for r in await _rows(session, first_reports, params):
        a = at(r.supplier_id, r.m)
        a.wait_hours, a.waits = a.wait_hours + float(r.h), a.waits + int(r.n)
    where, params = f.where("answered_on", ("buyer", "supplier"))
    replies = (f"SELECT supplier_id, {_month('answered_on')} AS m, sum(hours) AS h, count(*) AS n"
               f" FROM {REPLIES} WHERE {where} GROUP BY 1, 2")  # fmt: skip
    for r in await _rows(session, replies, params):
        a = at(r.supplier_id, r.m)
        a.wait_hours, a.waits = a.wait_hours + float(r.h), a.waits + int(r.n)


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


async def scorecards(
    session: AsyncSession, f: Filters, limit: int = DEFAULT_LIMIT
) -> dict[str, Any]:
    """Cards of the suppliers in ``f``; a supplier is ranked against all its category's peers."""
    peers = (
        f if f.supplier is None else Filters(f.buyer, None, f.category, f.season, f.start, f.end)
    )
    activity = await _activity(session, peers)
    cards = sc.scorecards(activity, await _categories(session))
    if f.supplier is not None:
        cards = [c for c in cards if c["supplier_id"] == f.supplier]
        activity = [a for a in activity if a.supplier_id == f.supplier]
    return {
        "formula": sc.FORMULA, "weights": sc.WEIGHTS, "suppliers": cards[:limit],
        "on_time_trend": sc.on_time_trend(activity),
    }  # fmt: skip
