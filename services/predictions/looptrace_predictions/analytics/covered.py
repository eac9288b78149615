"""Stage sums over a range from the rollups: the monthly ones for whole months, otherwise the
week-part ones for the parts inside the range and the daily ones (or, for a rollup without
days, the stage facts) of the days at its ends (``periods.cover``). Either way the rows add
up to what the facts of the range add up to.

Each source is a set of rows of the same columns (a fact counts as a row of one stage); the
caller sums them by its own keys. The rollups break stages down by category, season and
supplier, not by buyer: a buyer's view reads the facts.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from looptrace_predictions.analytics.filters import Filters
from looptrace_predictions.analytics.periods import cover
from looptrace_predictions.analytics.store import (
    HISTOGRAM,
    HISTOGRAM_DAYS,
    HISTOGRAM_PARTS,
    STAGES,
    SUPPLIER_PARTS,
    SUPPLIERS,
    TOTAL_DAYS,
    TOTAL_PARTS,
)
from looptrace_predictions.analytics.tables import SupplierMonthRow

SUPPLIER_MONTHS = SupplierMonthRow.__table__.fullname

# a stage fact's values for a rollup's columns (the others: the fact's own column)
FROM_FACT = {
    "supplier_id": "coalesce(supplier_id, '-')", "category": "coalesce(category, '-')",
    "month": "{month}", "n": "1", "days_sum": "days_in_stage", "overrun_sum": "overrun_days",
    "created_sum": "created_days", "slipped_n": "(created_days > 0)::int",
}  # fmt: skip


@dataclass(frozen=True)
class Shape:
    """One rollup's rows: its tables (``days``: None when the edge days are read from the
    facts) and the columns read (``month``: the month of the row's period; ``by_month``:
    the monthly table's own names of some)."""

    months: str
    parts: str
    days: str | None
    dims: tuple[str, ...]
    columns: tuple[str, ...]
    by_month: dict[str, str] = field(default_factory=dict)

    def select(self, period: str | None) -> str:
        """The columns from a rollup row of ``period`` (``month``, ``week_part``, ``day``),
        or from a stage fact (None)."""
        if period is None:
            values = [FROM_FACT.get(c, c) for c in self.columns]
            return ", ".join(values).format(month=month_of("completed_on"))
        if period == "month":
            return ", ".join(self.by_month.get(c, c) for c in self.columns)
        return ", ".join(month_of(period) if c == "month" else c for c in self.columns)

    @property
    def names(self) -> str:
        return ", ".join(self.columns)


def month_of(column: str) -> str:
    # a date as a timestamp without time zone: no time zone arithmetic for every row
    return f"date_trunc('month', {column}::timestamp)::date"


STAGE = ("stage_number", "stage_name")
SUMS = ("n", "days_sum", "created_sum", "slipped_n")
SUPPLIER_DIMS = ("supplier", "category", "season")
SUPPLIER_SUMS = ("n", "days_sum", "overrun_sum", "created_sum", "slipped_n")
BINS = Shape(HISTOGRAM, HISTOGRAM_PARTS, HISTOGRAM_DAYS, ("category", "season"),
             ("category", *STAGE, "overrun_days", *SUMS))  # fmt: skip
# a supplier's stages one by one
SUPPLIER_STAGES = Shape(SUPPLIERS, SUPPLIER_PARTS, None, SUPPLIER_DIMS,
                        ("supplier_id", "stage_name", *SUPPLIER_SUMS))  # fmt: skip
# … only what the worst stage of the suppliers shown needs: their indexes cover it
WORST_STAGES = Shape(SUPPLIERS, SUPPLIER_PARTS, None, SUPPLIER_DIMS,
                     ("supplier_id", "stage_name", "created_sum"))  # fmt: skip
# a supplier's totals (all its stages), by month from ``analytics_supplier_months``
TOTALS_BY_MONTH = {
    "n": "stages", "days_sum": "stage_days", "overrun_sum": "overrun_days",
    "created_sum": "created_days", "slipped_n": "slipped",
}  # fmt: skip
SUPPLIER_TOTALS = Shape(SUPPLIER_MONTHS, TOTAL_PARTS, TOTAL_DAYS, SUPPLIER_DIMS,
                        ("supplier_id", *SUPPLIER_SUMS), TOTALS_BY_MONTH)  # fmt: skip
MONTHLY_STAGES = Shape(SUPPLIER_MONTHS, TOTAL_PARTS, TOTAL_DAYS, SUPPLIER_DIMS,
                       ("supplier_id", "month", "n", "created_sum"), TOTALS_BY_MONTH)  # fmt: skip


def source(shape: Shape, f: Filters, supplier: str | None = None) -> tuple[str, dict[str, Any]]:
    """A derived table (``(…) AS r(<shape.columns>)``) of rows summing to ``f``'s stages
    (``supplier``: an SQL expression, e.g. a lateral join's key; only that supplier's rows,
    found by the tables' supplier indexes)."""
    if f.whole_months:
        where, params = f.where("month", shape.dims)
        sql = f"SELECT {shape.select('month')} FROM {shape.months} WHERE {where}"
        return f"({sql}{_of(supplier)}) AS r({shape.names})", params
    c = cover(f.start, f.end)
    pieces, params = [], {}
    if c.parts is not None:
        parts = replace(f, start=c.parts[0], end=c.parts[1])
        where, p = parts.where("week_part", shape.dims, tag="p")
        pieces.append(
            f"SELECT {shape.select('week_part')} FROM {shape.parts} WHERE {where}{_of(supplier)}"
        )
        params |= p
    for i, (start, end) in enumerate(c.days):
        edge = replace(f, start=start, end=end)
        if shape.days is None:
            where, p = edge.where("completed_on", shape.dims, tag=f"d{i}")
            pieces += [f"SELECT {shape.select(None)} FROM {STAGES} WHERE {where}{of}"
                       for of in _of_fact(supplier)]  # fmt: skip
        else:
            where, p = edge.where("day", shape.dims, tag=f"d{i}")
            pieces.append(
                f"SELECT {shape.select('day')} FROM {shape.days} WHERE {where}{_of(supplier)}"
            )
        params |= p
    return f"({' UNION ALL '.join(pieces)}) AS r({shape.names})", params


def _of(supplier: str | None) -> str:
    return "" if supplier is None else f" AND supplier_id = {supplier}"


def _of_fact(supplier: str | None) -> list[str]:
    """A fact's unknown supplier is NULL (a rollup's "-"): a second arm, not an OR, so that
    both are index-only scans."""
    if supplier is None:
        return [""]
    return [_of(supplier), f" AND supplier_id IS NULL AND {supplier} = '-'"]
