"""Monthly (and weekly) sums the admin's dashboard reads instead of 10^5–10^6 rows.

A rollup row is keyed by a period and a few dimensions and holds sums. Changes arrive as
signed contributions (what an order, an inspection or a reply adds to a row before and
after a batch); ``Rollup.flush`` adds the net deltas in key order (concurrent lanes lock
rows in the same order).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import text

from looptrace_predictions.analytics.domain import OrderRecord, Reply, StageFact, month_of
from looptrace_predictions.analytics.tables import OrderCountRow, QcWeekRow, SupplierMonthRow
from looptrace_predictions.analytics.writes import Writes
from looptrace_shared.db import json_rows

NONE = "-"
QC = ("first_inspections", "first_passed", "reinspections", "units", "critical", "major", "minor")


class Rollup:
    def __init__(
        self,
        table: Any,
        keys: tuple[str, ...],
        measures: tuple[str, ...],
        sql_types: dict[str, str],
    ) -> None:
        self.table, self.keys, self.measures = table.__table__.fullname, keys, measures
        self.name = table.__table__.name
        self.whole = {m for m in measures if sql_types.get(m) == "int"}
        cols = ", ".join(
            f"{c} {sql_types.get(c, 'text' if c in keys else 'float8')}" for c in keys + measures
        )
        adds = ", ".join(f"{m} = {self.table}.{m} + EXCLUDED.{m}" for m in measures)
        self.sql = text(
            f"INSERT INTO {self.table} ({', '.join(keys + measures)}) SELECT * FROM"
            f" json_to_recordset(CAST(:rows AS json)) AS r({cols})"
            f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {adds}"
        )
        self.deltas: dict[tuple[Any, ...], dict[str, float]] = defaultdict(
            lambda: defaultdict(float)
        )

    def add(self, key: tuple[Any, ...], sign: int, **measures: float) -> None:
        row = self.deltas[key]
        for name, value in measures.items():
            row[name] += sign * value

    def _value(self, measure: str, value: float) -> float:
        return round(value) if measure in self.whole else value

    def flush(self, writes: Writes) -> None:
        rows = [
            dict(zip(self.keys, k, strict=True)) | {m: self._value(m, v.get(m, 0)) for m in self.measures}
            for k, v in sorted(self.deltas.items()) if any(v.values())
        ]  # fmt: skip
        self.deltas.clear()
        if rows:
            writes.put(self.name, self.sql, json_rows(rows))


def supplier_months() -> Rollup:
    measures = ("finished", "on_time", "reports", "report_hours", *QC, "replies", "reply_hours",
                "stages", "created_days", "stage_days", "overrun_days", "slipped")  # fmt: skip
    ints = {m: "int" for m in measures if not m.endswith("hours")}
    return Rollup(
        SupplierMonthRow,
        ("month", "supplier_id", "category", "season"),
        measures,
        {"month": "date", **ints},
    )


def order_counts() -> Rollup:
    keys = (
        "month",
        "category",
        "season",
        "workflow_status",
        "production_status",
        "is_open",
        "delayed",
        "current_stage",
    )
    return Rollup(
        OrderCountRow,
        keys,
        ("n",),
        {"month": "date", "is_open": "boolean", "delayed": "boolean", "n": "int"},
    )


def qc_weeks() -> Rollup:
    return Rollup(
        QcWeekRow, ("week", "category", "season"), QC, {"week": "date", **{m: "int" for m in QC}}
    )


def _dims(o: OrderRecord | None, supplier: str | None = None) -> tuple[str, str, str]:
    if o is None:
        return (supplier or NONE, NONE, NONE)
    return (supplier or o.supplier_id or NONE, o.category or NONE, o.season or NONE)


def order_contributions(o: OrderRecord, sign: int, months: Rollup, counts: Rollup) -> None:
    s, c, season = _dims(o)
    if o.finished_on is not None and o.on_time is not None:
        months.add(
            (month_of(o.finished_on), s, c, season), sign, finished=1, on_time=int(o.on_time)
        )
    hours = o.first_report_hours
    if hours is not None and o.assigned_at is not None:
        months.add(
            (month_of(o.assigned_at.date()), s, c, season), sign, reports=1, report_hours=hours
        )
    if o.placed_on is not None:
        key = (month_of(o.placed_on), c, season, o.workflow_status or "unknown",
               o.production_status or "unknown", o.is_open, o.delayed, o.current_stage or NONE)  # fmt: skip
        counts.add(key, sign, n=1)


def inspection_contributions(row: dict[str, Any], sign: int, months: Rollup, weeks: Rollup) -> None:
    decided = row["decided_on"]
    if decided is None:
        return
    decided = date.fromisoformat(decided) if isinstance(decided, str) else decided
    measures = qc_measures(row)
    dims = (row["supplier_id"] or NONE, row["category"] or NONE, row["season"] or NONE)
    months.add((month_of(decided), *dims), sign, **measures)
    if row["inline"]:
        weeks.add((decided - timedelta(days=decided.weekday()), dims[1], dims[2]), sign, **measures)


def qc_measures(row: dict[str, Any]) -> dict[str, float]:
    first = bool(row["first"])
    return {
        "first_inspections": int(first), "first_passed": int(first and bool(row["passed"])),
        "reinspections": int(not first), "units": row["units"], "critical": row["critical"],
        "major": row["major"], "minor": row["minor"],
    }  # fmt: skip


def reply_contributions(replies: Iterable[tuple[Reply, OrderRecord]], months: Rollup) -> None:
    for reply, order in replies:
        key = (month_of(reply.answered_at.date()), *_dims(order, reply.supplier_id))
        months.add(key, 1, replies=1, reply_hours=reply.hours)


def fact_contributions(
    removed: Iterable[StageFact], added: Iterable[StageFact], months: Rollup
) -> None:
    """Completed stages and the lateness they created, in the supplier's month of completion."""
    for sign, facts in ((-1, removed), (1, added)):
        for f in facts:
            key = (
                month_of(f.completed_on),
                f.supplier_id or NONE,
                f.category or NONE,
                f.season or NONE,
            )
            months.add(key, sign, stages=1, created_days=f.created_days,
                       stage_days=f.days_in_stage, overrun_days=f.overrun_days,
                       slipped=int(f.created_days > 0))  # fmt: skip
