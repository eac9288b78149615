"""Loading and saving the read model: one statement per table per batch (rows as one JSON).

Rollup rows are changed by deltas (a stage fact that changes is taken out of its old row
and added to its new one), in key order so concurrent lanes lock rows in the same order.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from looptrace_predictions.analytics.domain import OrderRecord, Reply, StageFact
from looptrace_predictions.analytics.tables import (
    AnalyticsOrderRow,
    InspectionFactRow,
    ReplyRow,
    StageFactRow,
    StageHistogramDayRow,
    StageHistogramPartRow,
    StageHistogramRow,
    StageSupplierPartRow,
    StageSupplierRow,
    SupplierTotalDayRow,
    SupplierTotalPartRow,
)
from looptrace_predictions.analytics.writes import Writes
from looptrace_shared.db import json_rows, text_array

ORDERS = AnalyticsOrderRow.__table__.fullname
STAGES = StageFactRow.__table__.fullname
HISTOGRAM = StageHistogramRow.__table__.fullname
SUPPLIERS = StageSupplierRow.__table__.fullname


def fullname(row: Any) -> str:
    """A mapped class's table with its schema."""
    return str(row.__table__.fullname)


HISTOGRAM_PARTS, SUPPLIER_PARTS = fullname(StageHistogramPartRow), fullname(StageSupplierPartRow)
HISTOGRAM_DAYS = fullname(StageHistogramDayRow)
TOTAL_PARTS, TOTAL_DAYS = fullname(SupplierTotalPartRow), fullname(SupplierTotalDayRow)
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


def _among(params: dict[str, Any], column: str, values: list[str], name: str = "keys") -> str:
    """A join that keeps the rows whose ``column`` is one of ``values`` (each given once).

    A join, not ``column = ANY(<array>)``: in a prepared statement's generic plan the array
    expression is no constant, and a sequential scan (the plan for a table still small, as
    when the read model is built from scratch) evaluates it again for every row.
    """
    return f"JOIN unnest({text_array(params, name, values)}) AS k(key) ON t.{column} = k.key"


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
_INSPECTION_FIELDS = _names(INSPECTION_COLUMNS)
_INSPECTION_NAMES = ", ".join(f"t.{n}" for n in _INSPECTION_FIELDS)
SAVE_INSPECTIONS = _upsert(INSPECTIONS, INSPECTION_COLUMNS, "inspection_id")
_STAGE_NAMES = _names(STAGE_COLUMNS)
_STAGE_TYPES = [c.split()[1] for c in STAGE_COLUMNS.split(",")]
UPSERT_STAGES = text(
    f"INSERT INTO {STAGES} ({', '.join(_STAGE_NAMES)}) SELECT "
    + ", ".join(f"CAST(r->>{i} AS {t})" for i, t in enumerate(_STAGE_TYPES))
    + " FROM json_array_elements(CAST(:rows AS json)) AS r"
    " ON CONFLICT (order_id, stage_number) DO UPDATE SET "
    + ", ".join(f"{n} = EXCLUDED.{n}" for n in _STAGE_NAMES[2:])
)
DELETE_STAGES = text(
    f"DELETE FROM {STAGES} s USING json_array_elements(CAST(:keys AS json)) AS k"
    " WHERE s.order_id = k->>0 AND s.stage_number = CAST(k->>1 AS int)"
)


# ---- orders --------------------------------------------------------------------------


async def load_batch(
    session: AsyncSession, order_ids: Iterable[str], inspection_ids: set[str]
) -> tuple[dict[str, OrderRecord], dict[str, dict[str, Any]]]:
    """The batch's orders and the inspections it names, in one round trip."""
    params: dict[str, Any] = {}
    among = _among(params, "order_id", sorted(order_ids))
    sql = f"SELECT TRUE, t.state::text FROM {ORDERS} t {among}"
    if inspection_ids:
        among = _among(params, "inspection_id", sorted(inspection_ids), "inspection_keys")
        sql += (
            f" UNION ALL SELECT FALSE, json_build_array({_INSPECTION_NAMES})::text"
            f" FROM {INSPECTIONS} t {among}"
        )
    orders, inspections = {}, {}
    for is_order, raw in await session.execute(text(sql), params):
        if is_order:
            o = OrderRecord.from_state(orjson.loads(raw))
            orders[o.order_id] = o
        else:
            row = dict(zip(_INSPECTION_FIELDS, orjson.loads(raw), strict=True))
            row["decided_on"] = row["decided_on"] and date.fromisoformat(row["decided_on"])
            inspections[row["inspection_id"]] = row
    return orders, inspections


def order_row(o: OrderRecord) -> dict[str, Any]:
    return {
        "order_id": o.order_id, "order_number": o.order_number, "buyer_id": o.buyer_id,
        "supplier_id": o.supplier_id, "category": o.category, "season": o.season,
        "placed_on": o.placed_on, "target_date": o.target_date,
        "workflow_status": o.workflow_status, "production_status": o.production_status,
        "is_open": o.is_open, "delayed": o.delayed, "current_stage": o.current_stage,
        "projected_completion": o.projected_completion, "finished_on": o.finished_on,
        "on_time": o.on_time, "assigned_on": o.assigned_at.date() if o.assigned_at else None,
        "first_report_hours": o.first_report_hours, "state": o.to_state(),
    }  # fmt: skip


def save_orders(writes: Writes, orders: list[OrderRecord]) -> None:
    if orders:
        writes.put("orders", SAVE_ORDERS, json_rows([order_row(o) for o in orders]))


# ---- stage facts and their rollups ----------------------------------------------------


async def save_stage_facts(
    session: AsyncSession, writes: Writes, removed: list[StageFact], added: list[StageFact]
) -> None:
    """Write the facts that are new or changed (in ``writes``); delete those gone now (a
    reopened stage).

    A changed fact is in both lists (its old and its new form): it is upserted, not deleted.
    """
    kept = {(f.order_id, f.stage_number) for f in added}
    gone = sorted({(f.order_id, f.stage_number) for f in removed} - kept)
    if gone:
        await session.execute(DELETE_STAGES, {"keys": orjson.dumps(gone).decode()})
    if added:
        writes.put("stages", UPSERT_STAGES, orjson.dumps(added, default=tuple).decode())


# ---- inspections and replies -----------------------------------------------------------


def new_inspection(inspection_id: str, o: OrderRecord) -> dict[str, Any]:
    return {
        "inspection_id": inspection_id, "order_id": o.order_id, "supplier_id": o.supplier_id,
        "buyer_id": o.buyer_id, "category": o.category, "season": o.season,
        "stage_number": None, "inline": False, "first": True, "passed": None,
        "decided_on": None, "units": 0, "critical": 0, "major": 0, "minor": 0,
    }  # fmt: skip


def save_inspections(writes: Writes, rows: list[dict[str, Any]]) -> None:
    if rows:
        writes.put("inspections", SAVE_INSPECTIONS, json_rows(rows))


def inspection_dims(o: OrderRecord) -> tuple[Any, ...]:
    return (o.buyer_id, o.supplier_id, o.category, o.season, o.last_qc_stage())


async def inspections_of(
    session: AsyncSession, order_ids: set[str], exclude: set[str]
) -> dict[str, dict[str, Any]]:
    params: dict[str, Any] = {}
    among = _among(params, "order_id", sorted(order_ids))
    rows = await session.execute(
        text(f"SELECT {_INSPECTION_NAMES} FROM {INSPECTIONS} t {among}"), params
    )
    return {r.inspection_id: dict(r._mapping) for r in rows if r.inspection_id not in exclude}


SAVE_REPLIES = text(
    f"INSERT INTO {REPLIES} (order_id, asked_at, supplier_id, buyer_id, answered_on, hours)"
    " SELECT * FROM json_to_recordset(CAST(:rows AS json)) AS r(order_id text,"
    " asked_at timestamptz, supplier_id text, buyer_id text, answered_on date, hours float8)"
    " ON CONFLICT DO NOTHING"
)


def save_replies(writes: Writes, replies: list[tuple[Reply, str | None]]) -> None:
    if replies:
        rows = [
            {"order_id": r.order_id, "asked_at": r.asked_at, "supplier_id": r.supplier_id,
             "buyer_id": buyer, "answered_on": r.answered_at.date(), "hours": r.hours}
            for r, buyer in replies
        ]  # fmt: skip
        writes.put("replies", SAVE_REPLIES, json_rows(rows))


async def truncate_derived(session: AsyncSession) -> None:
    from looptrace_predictions.analytics.tables import DERIVED

    tables = ", ".join(t.__table__.fullname for t in DERIVED)
    await session.execute(text(f"TRUNCATE {tables}"))
