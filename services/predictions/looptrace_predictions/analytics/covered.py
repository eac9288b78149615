"""Stage sums over a range from the rollups: the monthly ones for whole months, otherwise the
week-part ones for the parts inside the range and the stage facts of the days at its ends
(``periods.cover``). Either way the rows add up to what the facts of the range add up to.

Each source is a set of rows of the same columns (a fact counts as a row of one stage); the
caller sums them by its own keys. The rollups break stages down by category, season and
supplier, not by buyer: a buyer's view reads the facts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from looptrace_predictions.analytics.filters import Filters
from looptrace_predictions.analytics.periods import cover
from looptrace_predictions.analytics.store import (
    HISTOGRAM,
    HISTOGRAM_PARTS,
    STAGES,
    SUPPLIER_PARTS,
    SUPPLIERS,
)

# a stage fact's values for a rollup's columns (the others: the fact's own column)
FROM_FACT = {
    "supplier_id": "coalesce(supplier_id, '-')", "category": "coalesce(category, '-')",
    "month": "{month}", "n": "1", "days_sum": "days_in_stage", "overrun_sum": "overrun_days",
    "created_sum": "created_days", "slipped_n": "(created_days > 0)::int",
}  # fmt: skip


@dataclass(frozen=True)
class Shape:
    """One rollup's rows: its tables and the columns read (``month``: the month of the
    row's period)."""

    months: str
    parts: str
    dims: tuple[str, ...]
    columns: tuple[str, ...]

    def select(self, period: str | None) -> str:
        """The columns from a rollup row of ``period`` (``month``, ``week_part``), or from a
        stage fact (None)."""
        if period is None:
            values = [FROM_FACT.get(c, c) for c in self.columns]
            return ", ".join(values).format(month=month_of("completed_on"))
        month = "month" if period == "month" else month_of(period)
        return ", ".join(month if c == "month" else c for c in self.columns)

    @property
    def names(self) -> str:
        return ", ".join(self.columns)


def month_of(column: str) -> str:
    # a date as a timestamp without time zone: no time zone arithmetic for every row
    return f"date_trunc('month', {column}::timestamp)::date"


STAGE = ("stage_number", "stage_name")
SUMS = ("n", "days_sum", "created_sum", "slipped_n")
SUPPLIER_DIMS = ("supplier", "category", "season")
BINS = Shape(HISTOGRAM, HISTOGRAM_PARTS, ("category", "season"),
             ("category", *STAGE, "overrun_days", *SUMS))  # fmt: skip
SUPPLIER_STAGES = Shape(SUPPLIERS, SUPPLIER_PARTS, SUPPLIER_DIMS,
                        ("supplier_id", "stage_name", "n", "days_sum", "overrun_sum", "created_sum", "slipped_n"))  # fmt: skip
MONTHLY_STAGES = Shape(SUPPLIERS, SUPPLIER_PARTS, SUPPLIER_DIMS,
                       ("supplier_id", "month", "n", "created_sum"))  # fmt: skip


def source(shape: Shape, f: Filters) -> tuple[str, dict[str, Any]]:
    """A derived table (``(…) AS r(<shape.columns>)``) of rows summing to ``f``'s stages."""
    if f.whole_months:
        where, params = f.where("month", shape.dims)
        sql = f"SELECT {shape.select('month')} FROM {shape.months} WHERE {where}"
        return f"({sql}) AS r({shape.names})", params
    c = cover(f.start, f.end)
    pieces, params = [], {}
    if c.parts is not None:
        parts = replace(f, start=c.parts[0], end=c.parts[1])
        where, p = parts.where("week_part", shape.dims, tag="p")
        pieces.append(f"SELECT {shape.select('week_part')} FROM {shape.parts} WHERE {where}")
        params |= p
    for i, (start, end) in enumerate(c.days):
        where, p = replace(f, start=start, end=end).where("completed_on", shape.dims, tag=f"d{i}")
        pieces.append(f"SELECT {shape.select(None)} FROM {STAGES} WHERE {where}")
        params |= p
    return f"({' UNION ALL '.join(pieces)}) AS r({shape.names})", params
