"""The figures' queries: aggregates from the read model, turned into figures by ``figures``.

Stage figures come from the monthly rollups when no buyer or supplier is asked for and the
range is whole months (the admin's dashboard over 10^6 stage rows); otherwise from the stage
facts, through the buyer/supplier indexes. Both paths hand ``figures`` the same rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from looptrace_predictions.analytics import covered
from looptrace_predictions.analytics import figures as fig
from looptrace_predictions.analytics.filters import Filters
from looptrace_predictions.analytics.store import INSPECTIONS, ORDERS, STAGES
from looptrace_predictions.analytics.tables import OrderCountRow, QcWeekRow, SupplierMonthRow
from looptrace_predictions.models import OrderFeaturesRow
from looptrace_shared.db import text_array

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


FACT_SUMS = (
    "count(*)::bigint, sum(days_in_stage)::bigint, sum(overrun_days)::bigint,"
    " sum(created_days)::bigint, (count(*) FILTER (WHERE created_days > 0))::bigint"
)  # n, days, overrun, created, slipped
BIN_KEYS = "category, stage_number, stage_name, overrun_days"


async def stage_performance(
    session: AsyncSession, f: Filters, limit: int = DEFAULT_LIMIT
) -> dict[str, Any]:
    """Overrun bins by category (the overall bins are their sums) and stage sums by supplier.

    An admin's view reads the rollups (``covered``): the bins, each supplier's totals, then
    the stages of only the suppliers shown that created lateness (their worst stage). A
    buyer's or supplier's view reads the stage facts in one scan (``GROUPING SETS``: the bins
    and the supplier-stage sums from the same rows)."""
    if f.buyer is None and f.supplier is None:
        bins_of, by_supplier = await _rolled_up_stages(session, f, limit)
    else:
        where, params = f.where("completed_on")
        rows = await _tuples(session, f"SELECT GROUPING(supplier_id), {BIN_KEYS}, supplier_id,"
                             f" {FACT_SUMS} FROM {STAGES} WHERE {where} GROUP BY GROUPING SETS"
                             f" (({BIN_KEYS}), (supplier_id, stage_name))", params)  # fmt: skip
        bins_of, suppliers = [], []
        for g, category, number, name, overrun, supplier, n, d, o, c, slipped in rows:
            if g:  # a bin (supplier_id not in its grouping)
                bins_of.append((category, fig.OverrunBin(number, name, overrun, n, d, c, slipped)))
            else:
                suppliers.append(fig.SupplierStage(supplier or "-", name, n, d, o, c, slipped))
        by_supplier = fig.supplier_stage_summary(suppliers)[:limit]
    result = fig.stage_performance(_overall(b for _, b in bins_of))
    result["by_category"] = _by_category(bins_of)
    result["by_supplier"] = by_supplier
    return result


async def _rolled_up_stages(
    session: AsyncSession, f: Filters, limit: int
) -> tuple[list[tuple[str | None, fig.OverrunBin]], list[dict[str, Any]]]:
    bins, params = covered.source(covered.BINS, f)
    rows = await _tuples(session, f"SELECT {BIN_KEYS}, sum(n)::bigint, sum(days_sum)::bigint,"
                         " sum(created_sum)::bigint, sum(slipped_n)::bigint"
                         f" FROM {bins} GROUP BY {BIN_KEYS} HAVING sum(n) > 0", params)  # fmt: skip
    bins_of = [(r[0], fig.OverrunBin(*r[1:])) for r in rows]
    totals, params = covered.source(covered.SUPPLIER_TOTALS, f)
    rows = await _tuples(session, "SELECT supplier_id, sum(n)::bigint, sum(days_sum)::bigint,"
                         " sum(overrun_sum)::bigint, sum(created_sum)::bigint, sum(slipped_n)::bigint"
                         f" FROM {totals} GROUP BY 1 HAVING sum(n) > 0", params)  # fmt: skip
    shown = fig.ranked_suppliers(fig.SupplierTotals(*r) for r in rows)[:limit]
    late = [t.supplier_id for t in shown if t.created_sum > 0]
    return bins_of, fig.supplier_rows(shown, await _worst_stages(session, f, late))


async def _worst_stages(session: AsyncSession, f: Filters, suppliers: list[str]) -> dict[str, str]:
    """The stage each of ``suppliers`` created most lateness at: each one's rows found by
    the supplier indexes (a lateral join), not the period's rows of every supplier."""
    if not suppliers:
        return {}
    params: dict[str, Any] = {}
    ids = text_array(params, "shown", suppliers)
    stages, more = covered.source(covered.WORST_STAGES, f, supplier="k.key")
    rows = await _tuples(session, f"SELECT k.key, r.stage_name, sum(r.created_sum) FROM"
                         f" unnest({ids}) AS k(key) CROSS JOIN LATERAL {stages} GROUP BY 1, 2",
                         params | more)  # fmt: skip
    return fig.worst_stages(fig.SupplierStage(s, name, 0, 0, 0, c, 0) for s, name, c in rows)


async def _tuples(session: AsyncSession, sql: str, params: dict[str, Any]) -> list[Any]:
    return list((await session.execute(text(sql), params)).all())


def _overall(bins: Iterable[fig.OverrunBin]) -> list[fig.OverrunBin]:
    """The bins of all categories together."""
    sums: dict[tuple[int, str, int], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for b in bins:
        t = sums[(b.stage_number, b.stage_name, b.overrun_days)]
        t[0], t[1], t[2], t[3] = (
            t[0] + b.n,
            t[1] + b.days_sum,
            t[2] + b.created_sum,
            t[3] + b.slipped_n,
        )
    return [fig.OverrunBin(*k, *v) for k, v in sums.items()]


def _by_category(bins: list[tuple[str | None, fig.OverrunBin]]) -> list[dict[str, Any]]:
    grouped: dict[str, list[fig.OverrunBin]] = defaultdict(list)
    for category, b in bins:
        grouped[category or "-"].append(b)
    out = []
    for category, bs in sorted(grouped.items()):
        perf = fig.stage_performance(bs)
        out += [{"category": category, **row} for row in perf["stages"]]
    return out


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
    # by supplier and by category in one scan (GROUPING(supplier_id) = 1: a category's row)
    rows = await _rows(session, f"SELECT GROUPING(supplier_id) AS g, supplier_id AS s,"
                       f" category AS c, {measures} FROM {decided}"
                       " GROUP BY GROUPING SETS ((supplier_id), (category))", params)  # fmt: skip
    by: dict[str, list[fig.QcCounts]] = {"supplier_id": [], "category": []}
    for r in rows:
        if r.fi + r.re > 0:
            key = (r.c if r.g else r.s) or "-"
            by["category" if r.g else "supplier_id"].append(_qc(key, r))
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
        sql = (f"SELECT date_trunc('week', decided_on::timestamp)::date AS k, {QC_MEASURES} FROM {INSPECTIONS}"
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
    # one pass over the open orders: the weeks' counts and the riskiest orders together
    rows = await _tuples(
        session,
        "WITH o AS MATERIALIZED (SELECT o.order_id, o.order_number, o.supplier_id, o.target_date,"
        f" o.projected_completion, m.model_delay, {LATE_BY} AS late FROM {source})"
        " SELECT TRUE, date_trunc('week', target_date::timestamp)::date, count(*),"
        " count(*) FILTER (WHERE projected_completion IS NULL OR projected_completion <= target_date),"
        " count(model_delay), count(*) FILTER (WHERE model_delay < 0.5), NULL, NULL, NULL, NULL::float8,"
        " NULL::date"
        " FROM o GROUP BY 2"
        " UNION ALL (SELECT FALSE, target_date, NULL, NULL, NULL, NULL, order_id, order_number,"
        " supplier_id, model_delay, projected_completion FROM o WHERE late > 0"
        f" ORDER BY late DESC, target_date, order_id LIMIT {fig.TOP_RISK_ORDERS})",
        params,
    )
    weeks = [fig.WeekCounts(r[1], r[2], r[3], r[4], r[5]) for r in rows if r[0]]
    weeks.sort(key=lambda w: w.week)
    risky = [r for r in rows if not r[0]]
    return fig.delivery_projection(
        weeks,
        [fig.OpenOrder(r[6], r[7], r[8], r[1], r[10], r[9]) for r in risky],
    )  # fmt: skip
