"""The supplier's capacity load over an order's remaining window: a feature and its driver facts.

``supplier_window_overload_pct`` = how many percentage points the supplier's most loaded
week, from the as_of week to the order's last week (the later of its target and its last
planned end), is above the supplier's capacity; 0 when no week of that window is over, NaN
when unknown (a history without capacities).

* Live (``CapacityPeak.of``): production announces each supplier-week that crosses its
  capacity (``production.capacity_overloaded`` / ``capacity_recovered``, with the
  utilisation % of the week and bucket); the worker keeps the latest announcement per
  supplier × week × bucket (``supplier_capacity_weeks``). A week never announced overloaded
  is at most full, so it adds 0.
* Training (``window_overload``): the simulator's history carries each supplier's weekly
  capacity (``supplier_capacity_units``); the load of a supplier-week as known on as_of is
  the quantity of every order of that supplier placed on or before as_of and not ended by
  then, spread evenly over the planned days of its making stages (the quantity-bearing work
  production's capacity buckets measure). Nothing after as_of is used.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from looptrace_predictions.arrays import OrderTable, StageTable
from looptrace_predictions.stage_params import MAKING_STAGES

FULL_PCT = 100.0
_MONDAY_SHIFT = 3  # epoch day 0 (1970-01-01) is a Thursday


def week_index(day: np.ndarray | float) -> np.ndarray:
    """Epoch day → index of its ISO week (Monday-based)."""
    return np.floor((np.asarray(day, dtype=float) + _MONDAY_SHIFT) / 7.0)


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True)
class WeekLoad:
    """One announced supplier-week (live)."""

    week: date
    bucket: str
    utilisation_pct: float
    overloaded: bool


@dataclass(frozen=True)
class CapacityPeak:
    """The most loaded overloaded bucket of the window, and the weeks it is over in."""

    overload_pct: float
    bucket: str | None = None
    first_week: date | None = None
    last_week: date | None = None

    @classmethod
    def of(cls, weeks: Iterable[WeekLoad], first: date, last: date) -> CapacityPeak:
        """From the supplier's announced weeks, over the window ``first``..``last`` (days)."""
        start = monday(first)
        end = max(monday(last), start)  # an order past its last day: the as_of week still counts
        over = [w for w in weeks if w.overloaded and start <= w.week <= end]
        if not over:
            return cls(0.0)
        top = max(over, key=lambda w: (w.utilisation_pct, -w.week.toordinal()))
        span = sorted(w.week for w in over if w.bucket == top.bucket)
        return cls(max(0.0, top.utilisation_pct - FULL_PCT), top.bucket, span[0], span[-1])

    def columns(self) -> dict[str, object]:
        """The driver's facts, as extra (non-feature) columns of the feature frame."""
        return {
            "overload_bucket": self.bucket,
            "overload_first_week": self.first_week,
            "overload_last_week": self.last_week,
        }


def window_overload(
    orders: OrderTable,
    stages: StageTable,
    capacity: np.ndarray,
    rows: np.ndarray,
    as_of: np.ndarray,
) -> np.ndarray:
    """``supplier_window_overload_pct`` of order ``rows[i]`` as of epoch day ``as_of[i]``.

    ``capacity``: the supplier's units per week, per order (NaN: unknown → NaN)."""
    out = np.full(len(rows), np.nan)
    weekly = _weekly_loads(orders, stages)
    end = np.nanmax(stages.planned_end, axis=1)
    last_day = np.fmax(orders.target_day, end)
    ended = _ended_day(stages)
    for supplier in np.unique(orders.supplier_id[rows]):
        mine = np.flatnonzero(orders.supplier_id == supplier)
        asked = np.flatnonzero(orders.supplier_id[rows] == supplier)
        cap = float(np.nanmax(capacity[mine])) if np.isfinite(capacity[mine]).any() else np.nan
        if not cap > 0:
            continue
        first_week = int(week_index(np.nanmin(orders.order_day[mine])))
        grid = np.zeros((len(mine), int(week_index(np.nanmax(last_day[mine]))) - first_week + 2))
        for k, j in enumerate(mine):
            for week, units in weekly[j].items():
                grid[k, week - first_week] += units
        t = as_of[asked][:, None]
        known = (orders.order_day[mine][None, :] <= t) & ~(ended[mine][None, :] <= t)
        load = known.astype(float) @ grid  # (asked × weeks) as known on each as_of
        columns = np.arange(grid.shape[1])[None, :] + first_week
        lo = week_index(as_of[asked])[:, None]
        hi = week_index(last_day[rows[asked]])[:, None]
        inside = (columns >= lo) & (columns <= np.maximum(hi, lo))
        peak = np.where(inside, load, 0.0).max(axis=1) / cap * FULL_PCT
        out[asked] = np.maximum(peak - FULL_PCT, 0.0)
    return out


def _ended_day(stages: StageTable) -> np.ndarray:
    last = np.where(stages.valid, stages.stage_number, -np.inf).argmax(axis=1)
    return stages.actual_end[np.arange(len(last)), last]


def _weekly_loads(orders: OrderTable, stages: StageTable) -> list[dict[int, float]]:
    """Per order: week index → units of its making stages planned in that week."""
    making = np.isin(stages.stage_name, list(MAKING_STAGES)) & stages.valid
    days = np.where(making, stages.planned_end - stages.planned_start, 0.0)
    total = days.sum(axis=1)
    out: list[dict[int, float]] = []
    for j in range(len(orders.order_id)):
        rate = orders.quantity[j] / total[j] if total[j] > 0 else 0.0
        weeks: dict[int, float] = {}
        for k in np.flatnonzero(making[j] & (days[j] > 0)):
            _spread(weeks, stages.planned_start[j, k], stages.planned_end[j, k], rate)
        out.append(weeks)
    return out


def _spread(weeks: dict[int, float], start: float, end: float, rate: float) -> None:
    """Add ``rate`` units per day of [start, end) to the weeks it covers."""
    for week in range(int(week_index(start)), int(week_index(end - 1)) + 1):
        week_start = week * 7.0 - _MONDAY_SHIFT
        overlap = min(end, week_start + 7.0) - max(start, week_start)
        if overlap > 0:
            weeks[week] = weeks.get(week, 0.0) + rate * overlap
