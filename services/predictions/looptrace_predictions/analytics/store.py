"""Loading and saving the read model: one statement per table per batch (rows as one JSON).

Rollup rows are changed by deltas (a stage fact that changes is taken out of its old row
and added to its new one), in key order so concurrent lanes lock rows in the same order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from looptrace_predictions.analytics.domain import OrderRecord, Reply, StageFact, month_of
from looptrace_predictions.analytics.tables import (
    AnalyticsOrderRow,
    InspectionFactRow,
    ReplyRow,
    StageFactRow,
    StageHistogramRow,
    StageSupplierRow,
)
from looptrace_shared.db import json_rows, text_array

ORDERS = AnalyticsOrderRow.__table__.fullname
STAGES = StageFactRow.__table__.fullname
HISTOGRAM = StageHistogramRow.__table__.fullname
SUPPLIERS = StageSupplierRow.__table__.fullname
INSPECTIONS = InspectionFactRow.__table__.fullname
REPLIES = ReplyRow.__table__.fullname
NONE = "-"  # rollup keys hold no NULLs: an unknown category/season/supplier is "-"

ORDER_COLUMNS = (
    "order_id text, order_number text, buyer_id text, supplier_id text, category text,"
    " season text, placed_on date, target_date date, workflow_status text,"
    " production_status text, is_open boolean, delayed boolean, current_stage text,"
    " projected_completion date, finished_on date, on_time boolean, assigned_on date,"
    " first_report_hours float8, state json"
)
STAGE_COLUMNS = (
    "order_id text, stage_number int, stage_name text, supplier_id text, buyer_id text,"
    " category text, season text, completed_on date, days_in_stage int, overrun_days int,"
    " late_days int, created_days int"
)
INSPECTION_COLUMNS = (
    "inspection_id text, order_id text, supplier_id text, buyer_id text, category text,"
    " season text, stage_number int, inline boolean, first boolean, passed boolean,"
    " decided_on date, units int, critical int, major int, minor int"
)


def _names(columns: str) -> list[str]:
    return [c.split()[0] for c in columns.split(",")]


def _upsert(table: str, columns: str, key: str, source: str = ":rows") -> Any:
    names = _names(columns)
    updates = ", ".join(f"{n} = EXCLUDED.{n}" for n in names if n not in key.split(", "))
    return text(
        f"INSERT INTO {table} ({', '.join(names)}) SELECT * FROM"
        f" json_to_recordset(CAST({source} AS json)) AS r({columns})"
        f" ON CONFLICT ({key}) DO UPDATE SET {updates}"
    )


SAVE_ORDERS = _upsert(ORDERS, ORDER_COLUMNS, "order_id")
SAVE_INSPECTIONS = _upsert(INSPECTIONS, INSPECTION_COLUMNS, "inspection_id")
INSERT_STAGES = text(
    f"INSERT INTO {STAGES} ({', '.join(_names(STAGE_COLUMNS))}) SELECT * FROM"
    f" json_to_recordset(CAST(:rows AS json)) AS r({STAGE_COLUMNS})"
)


# ---- orders --------------------------------------------------------------------------


async def load_orders(session: AsyncSession, order_ids: Iterable[str]) -> dict[str, OrderRecord]:
    params: dict[str, Any] = {}
    ids = text_array(params, "ids", sorted(order_ids))
    rows = await session.execute(
        text(f"SELECT state::text FROM {ORDERS} WHERE order_id = ANY({ids})"), params
    )
    records = [OrderRecord.from_json(orjson.loads(r[0])) for r in rows]
    return {r.order_id: r for r in records}


def order_row(o: OrderRecord) -> dict[str, Any]:
    return {
        "order_id": o.order_id, "order_number": o.order_number, "buyer_id": o.buyer_id,
        "supplier_id": o.supplier_id, "category": o.category, "season": o.season,
        "placed_on": o.placed_on, "target_date": o.target_date,
        "workflow_status": o.workflow_status, "production_status": o.production_status,
        "is_open": o.is_open, "delayed": o.delayed, "current_stage": o.current_stage,
        "projected_completion": o.projected_completion, "finished_on": o.finished_on,
        "on_time": o.on_time, "assigned_on": o.assigned_at.date() if o.assigned_at else None,
        "first_report_hours": o.first_report_hours, "state": o,
    }  # fmt: skip


async def save_orders(session: AsyncSession, orders: list[OrderRecord]) -> None:
    if orders:
        await session.execute(SAVE_ORDERS, {"rows": json_rows([order_row(o) for o in orders])})


# ---- stage facts and their rollups ----------------------------------------------------


async def replace_stage_facts(
    session: AsyncSession, order_ids: list[str], facts: list[StageFact]
) -> None:
    if not order_ids:
        return
    params: dict[str, Any] = {}
    ids = text_array(params, "ids", order_ids)
    await session.execute(text(f"DELETE FROM {STAGES} WHERE order_id = ANY({ids})"), params)
    if facts:
        await session.execute(INSERT_STAGES, {"rows": json_rows(facts)})


def _histogram_key(f: StageFact) -> tuple[Any, ...]:
    return (month_of(f.completed_on), f.category or NONE, f.season or NONE, f.stage_number,
            f.stage_name, f.overrun_days)  # fmt: skip


def _supplier_key(f: StageFact) -> tuple[Any, ...]:
    return (month_of(f.completed_on), f.supplier_id or NONE, f.category or NONE,
            f.season or NONE, f.stage_number, f.stage_name)  # fmt: skip


def rollup_deltas(
    removed: list[StageFact], added: list[StageFact]
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """(histogram rows, supplier rows): key + (n, days, created, slipped[, overrun]) deltas."""
    hist: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    sup: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for sign, facts in ((-1, removed), (1, added)):
        for f in facts:
            m = (sign, sign * f.days_in_stage, sign * f.created_days, sign * f.slipped)
            h, s = hist[_histogram_key(f)], sup[_supplier_key(f)]
            for i, v in enumerate(m):
                h[i] += v
                s[i] += v
            s[4] += sign * f.overrun_days
    return (
        sorted(k + tuple(v) for k, v in hist.items() if any(v)),
        sorted(k + tuple(v) for k, v in sup.items() if any(v)),
    )


ADD_HISTOGRAM = text(
    f"INSERT INTO {HISTOGRAM} (month, category, season, stage_number, stage_name, overrun_days,"
    " n, days_sum, created_sum, slipped_n) SELECT * FROM json_to_recordset(CAST(:rows AS json))"
    " AS r(month date, category text, season text, stage_number int, stage_name text,"
    " overrun_days int, n int, days_sum int, created_sum int, slipped_n int)"
    " ON CONFLICT (month, category, season, stage_number, stage_name, overrun_days) DO UPDATE SET"
    f" n = {HISTOGRAM}.n + EXCLUDED.n, days_sum = {HISTOGRAM}.days_sum + EXCLUDED.days_sum,"
    f" created_sum = {HISTOGRAM}.created_sum + EXCLUDED.created_sum,"
    f" slipped_n = {HISTOGRAM}.slipped_n + EXCLUDED.slipped_n"
)
ADD_SUPPLIERS = text(
    f"INSERT INTO {SUPPLIERS} (month, supplier_id, category, season, stage_number, stage_name,"
    " n, days_sum, created_sum, slipped_n, overrun_sum) SELECT * FROM"
    " json_to_recordset(CAST(:rows AS json)) AS r(month date, supplier_id text, category text,"
    " season text, stage_number int, stage_name text, n int, days_sum int, created_sum int,"
    " slipped_n int, overrun_sum int)"
    " ON CONFLICT (month, supplier_id, category, season, stage_number, stage_name) DO UPDATE SET"
    f" n = {SUPPLIERS}.n + EXCLUDED.n, days_sum = {SUPPLIERS}.days_sum + EXCLUDED.days_sum,"
    f" created_sum = {SUPPLIERS}.created_sum + EXCLUDED.created_sum,"
    f" slipped_n = {SUPPLIERS}.slipped_n + EXCLUDED.slipped_n,"
    f" overrun_sum = {SUPPLIERS}.overrun_sum + EXCLUDED.overrun_sum"
)
HIST_FIELDS = ("month", "category", "season", "stage_number", "stage_name", "overrun_days",
               "n", "days_sum", "created_sum", "slipped_n")  # fmt: skip
SUP_FIELDS = ("month", "supplier_id", "category", "season", "stage_number", "stage_name",
              "n", "days_sum", "created_sum", "slipped_n", "overrun_sum")  # fmt: skip


async def add_to_rollups(
    session: AsyncSession, removed: list[StageFact], added: list[StageFact]
) -> None:
    hist, sup = rollup_deltas(removed, added)
    if hist:
        rows = [dict(zip(HIST_FIELDS, r, strict=True)) for r in hist]
        await session.execute(ADD_HISTOGRAM, {"rows": json_rows(rows)})
    if sup:
        rows = [dict(zip(SUP_FIELDS, r, strict=True)) for r in sup]
        await session.execute(ADD_SUPPLIERS, {"rows": json_rows(rows)})


# ---- inspections and replies -----------------------------------------------------------


def new_inspection(inspection_id: str, o: OrderRecord) -> dict[str, Any]:
    return {
        "inspection_id": inspection_id, "order_id": o.order_id, "supplier_id": o.supplier_id,
        "buyer_id": o.buyer_id, "category": o.category, "season": o.season,
        "stage_number": None, "inline": False, "first": True, "passed": None,
        "decided_on": None, "units": 0, "critical": 0, "major": 0, "minor": 0,
    }  # fmt: skip


async def load_inspections(session: AsyncSession, ids: set[str]) -> dict[str, dict[str, Any]]:
    if not ids:
        return {}
    params: dict[str, Any] = {}
    sql = text_array(params, "ids", sorted(ids))
    names = ", ".join(_names(INSPECTION_COLUMNS))
    rows = await session.execute(
        text(f"SELECT {names} FROM {INSPECTIONS} WHERE inspection_id = ANY({sql})"), params
    )
    return {r.inspection_id: dict(r._mapping) for r in rows}


async def save_inspections(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(SAVE_INSPECTIONS, {"rows": json_rows(rows)})


def inspection_dims(o: OrderRecord) -> tuple[Any, ...]:
    return (o.buyer_id, o.supplier_id, o.category, o.season, o.last_qc_stage())


async def inspections_of(
    session: AsyncSession, order_ids: set[str], exclude: set[str]
) -> dict[str, dict[str, Any]]:
    params: dict[str, Any] = {}
    sql = text_array(params, "ids", sorted(order_ids))
    names = ", ".join(_names(INSPECTION_COLUMNS))
    rows = await session.execute(
        text(f"SELECT {names} FROM {INSPECTIONS} WHERE order_id = ANY({sql})"), params
    )
    return {r.inspection_id: dict(r._mapping) for r in rows if r.inspection_id not in exclude}


SAVE_REPLIES = text(
    f"INSERT INTO {REPLIES} (order_id, asked_at, supplier_id, buyer_id, answered_on, hours)"
    " SELECT * FROM json_to_recordset(CAST(:rows AS json)) AS r(order_id text,"
    " asked_at timestamptz, supplier_id text, buyer_id text, answered_on date, hours float8)"
    " ON CONFLICT DO NOTHING"
)


async def save_replies(session: AsyncSession, replies: list[tuple[Reply, str | None]]) -> None:
    if replies:
        rows = [
            {"order_id": r.order_id, "asked_at": r.asked_at, "supplier_id": r.supplier_id,
             "buyer_id": buyer, "answered_on": r.answered_at.date(), "hours": r.hours}
            for r, buyer in replies
        ]  # fmt: skip
        await session.execute(SAVE_REPLIES, {"rows": json_rows(rows)})


async def truncate_derived(session: AsyncSession) -> None:
    from looptrace_predictions.analytics.tables import DERIVED

    tables = ", ".join(t.__table__.fullname for t in DERIVED)
    await session.execute(text(f"TRUNCATE {tables}"))
