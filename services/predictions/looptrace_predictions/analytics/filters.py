"""The filters every analytics figure takes, and who may see what.

Buyers see their own orders only, suppliers their own, admins all; asking for another
party's figures looks like asking for figures that are not there (404). Each figure applies
the date range to its own date: the order placed (overview), the stage completed (stages,
scorecard slip), the inspection decided (quality), the target date (delivery projection),
the order finished (on-time delivery).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from looptrace_shared.auth import Principal
from looptrace_shared.errors import NotFound, RuleViolation


class InvalidRange(RuleViolation):
    rule = "invalid_date_range"
    title = "Invalid date range"


COLUMNS = {
    "buyer": "buyer_id",
    "supplier": "supplier_id",
    "category": "category",
    "season": "season",
}
DIMS = tuple(COLUMNS)


@dataclass(frozen=True)
class Filters:
    buyer: str | None = None
    supplier: str | None = None
    category: str | None = None
    season: str | None = None
    start: date | None = None
    end: date | None = None

    def __post_init__(self) -> None:
        if self.start and self.end and self.start > self.end:
            raise InvalidRange(f"from ({self.start}) is after to ({self.end}); give from <= to")

    def where(
        self, date_column: str, dims: tuple[str, ...] = DIMS, prefix: str = "", tag: str = ""
    ) -> tuple[str, dict[str, Any]]:
        """A WHERE clause (always valid SQL) and its parameters for the given columns (the
        range's named after ``tag``: several ranges in one statement)."""
        clauses, params = ["TRUE"], {}
        for dim in dims:
            value = getattr(self, dim)
            if value is not None:
                clauses.append(f"{prefix}{COLUMNS[dim]} = :f_{dim}")
                params[f"f_{dim}"] = value
        if self.start is not None:
            clauses.append(f"{prefix}{date_column} >= :f{tag}_start")
            params[f"f{tag}_start"] = self.start
        if self.end is not None:
            clauses.append(f"{prefix}{date_column} <= :f{tag}_end")
            params[f"f{tag}_end"] = self.end
        return " AND ".join(clauses), params

    @property
    def whole_months(self) -> bool:
        """The range starts on a 1st and ends on a month's last day (rollups answer it)."""
        starts = self.start is None or self.start.day == 1
        last = calendar.monthrange(self.end.year, self.end.month)[1] if self.end else 0
        ends = self.end is None or self.end.day == last
        return starts and ends


def scoped(user: Principal, f: Filters) -> Filters:
    """The filters narrowed to what ``user`` may see (404 when asking for someone else's)."""
    if user.is_admin:
        return f
    user.require("buyer", "supplier")
    field = "buyer" if user.role == "buyer" else "supplier"
    asked = getattr(f, field)
    if asked is not None and asked != user.subject:
        raise NotFound(f"no analytics of {field} {asked} that you may see")
    return replace(f, **{field: user.subject})
