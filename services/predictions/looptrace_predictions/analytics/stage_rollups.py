"""The stage facts' rollups: signed deltas of a batch's changed facts, by period and keys.

Every rollup holds sums of the same measures of completed stages (count, days in stage,
created lateness, slipped count, and for a supplier's rows the overrun), keyed by a period
(month, week part or day of completion) and some of the fact's dimensions:

- histograms by category, season, stage and whole days of overrun (exact percentiles of any
  set of periods: the bins add up);
- a supplier's stages by category, season and stage;
- a supplier's totals by category and season (all its stages; by month they are columns of
  ``analytics_supplier_months``, written with its other sums by ``rollups``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import orjson
from sqlalchemy import text

from looptrace_predictions.analytics.domain import StageFact
from looptrace_predictions.analytics.periods import part_of
from looptrace_predictions.analytics.store import NONE, fullname
from looptrace_predictions.analytics.tables import (
    StageHistogramDayRow,
    StageHistogramPartRow,
    StageHistogramRow,
    StageSupplierPartRow,
    StageSupplierRow,
    SupplierTotalDayRow,
    SupplierTotalPartRow,
)
from looptrace_predictions.analytics.writes import Writes

HIST_KEYS = ("category", "season", "stage_number", "stage_name", "overrun_days")
HIST_SUMS = ("n", "days_sum", "created_sum", "slipped_n")
SUP_KEYS = ("supplier_id", "category", "season", "stage_number", "stage_name")
TOTAL_KEYS = ("supplier_id", "category", "season")
SUP_SUMS = (*HIST_SUMS, "overrun_sum")
_TYPES = {"stage_number": "int", "overrun_days": "int", **{m: "int" for m in SUP_SUMS}}


class StageRollup:
    """One rollup table: the upsert that adds signed deltas to its rows (each row a JSON
    array in the order of ``fields``: half the bytes of an object, and orjson encodes the
    key tuples as they are)."""

    def __init__(self, table: Any, period: str, keys: tuple[str, ...]) -> None:
        self.name = table.__table__.name
        self.sums = SUP_SUMS if "supplier_id" in keys else HIST_SUMS
        self.fields = (period, *keys, *self.sums)
        types = [("date" if c == period else _TYPES.get(c, "text")) for c in self.fields]
        table_name = fullname(table)
        adds = ", ".join(f"{m} = {table_name}.{m} + EXCLUDED.{m}" for m in self.sums)
        values = ", ".join(f"CAST(r->>{i} AS {t})" for i, t in enumerate(types))
        self.sql = text(
            f"INSERT INTO {table_name} ({', '.join(self.fields)}) SELECT {values} FROM"
            f" json_array_elements(CAST(:rows AS json)) AS r"
            f" ON CONFLICT ({', '.join((period, *keys))}) DO UPDATE SET {adds}"
        )


# in the order ``deltas`` keys them: (month | week part | day) × (histogram | supplier's stage
# | supplier's totals), the supplier's monthly totals being in ``analytics_supplier_months``
STAGE_ROLLUPS = (
    StageRollup(StageHistogramRow, "month", HIST_KEYS),
    StageRollup(StageSupplierRow, "month", SUP_KEYS),
    StageRollup(StageHistogramPartRow, "week_part", HIST_KEYS),
    StageRollup(StageSupplierPartRow, "week_part", SUP_KEYS),
    StageRollup(SupplierTotalPartRow, "week_part", TOTAL_KEYS),
    StageRollup(StageHistogramDayRow, "day", HIST_KEYS),
    StageRollup(SupplierTotalDayRow, "day", TOTAL_KEYS),
)


def deltas(removed: list[StageFact], added: list[StageFact]) -> list[list[tuple[Any, ...]]]:
    """Each of ``STAGE_ROLLUPS``' rows that the facts change: key + sums deltas, in key order
    (concurrent lanes lock rows in the same order); rows whose deltas are all 0 left out.
    One pass over the facts for all the rollups (a batch's facts are ~0.25 an event)."""
    tables: list[dict[tuple[Any, ...], list[int]]] = [{} for _ in STAGE_ROLLUPS]
    parts: dict[date, date] = {}
    for sign, facts in ((-1, removed), (1, added)):
        for f in facts:
            day, supplier = f.completed_on, f.supplier_id or NONE
            category, season = f.category or NONE, f.season or NONE
            part = parts.get(day) or parts.setdefault(day, part_of(day))
            hist = (category, season, f.stage_number, f.stage_name, f.overrun_days)
            stage = (supplier, category, season, f.stage_number, f.stage_name)
            total = (supplier, category, season)
            m = (sign, sign * f.days_in_stage, sign * f.created_days,
                 sign * (f.created_days > 0), sign * f.overrun_days)  # fmt: skip
            for table, key in zip(tables, ((day.replace(day=1), *hist), (day.replace(day=1), *stage),
                                           (part, *hist), (part, *stage), (part, *total),
                                           (day, *hist), (day, *total)), strict=True):  # fmt: skip
                r = table.get(key)
                if r is None:
                    table[key] = list(m)
                else:
                    r[0], r[1], r[2], r[3], r[4] = (
                        r[0] + m[0],
                        r[1] + m[1],
                        r[2] + m[2],
                        r[3] + m[3],
                        r[4] + m[4],
                    )
    return [
        sorted(k + tuple(v[: len(rollup.sums)]) for k, v in table.items() if any(v))
        for rollup, table in zip(STAGE_ROLLUPS, tables, strict=True)
    ]


def rollup_deltas(
    removed: list[StageFact], added: list[StageFact], period: str = "month"
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """(histogram rows, supplier-stage rows) by ``period`` (month, week_part)."""
    rows = deltas(removed, added)
    return (rows[0], rows[1]) if period == "month" else (rows[2], rows[3])


def add_to_rollups(writes: Writes, removed: list[StageFact], added: list[StageFact]) -> None:
    """The stage facts' deltas into every stage rollup."""
    if not (removed or added):
        return
    for rollup, rows in zip(STAGE_ROLLUPS, deltas(removed, added), strict=True):
        if rows:
            writes.put(rollup.name, rollup.sql, orjson.dumps(rows).decode())
