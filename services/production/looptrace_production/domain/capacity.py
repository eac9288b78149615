"""Planned load of supplier orders on their suppliers' capacity, per ISO week (no I/O).

The model (README "Supplier network"):
- Capacity is reported in **units per week** per *bucket*: a product category
  (``category:knitwear``) or a process (``process:printing``).
- A plan loads a category bucket through its *main stage*, the longest of its template
  (knitting for knitwear, sewing & assembly for cut-and-sew): the order's quantity goes
  through that stage once. A stage whose name names a process (``PROCESSES``) loads that
  process's bucket with the order's quantity too.
- A stage's quantity is spread evenly over its working days from ``forecast_start`` to
  ``forecast_end`` (the planned dates until a report moves them), holidays and weekends of
  the plan's own calendar excluded; each day's share counts in the ISO week of that day.
  A stage whose dates hold no working day puts its quantity on its last day.
- Skipped stages load nothing; a completed stage keeps the load of the days it ran.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from looptrace_production.calendar import Calendar
from looptrace_production.domain.stage import Stage
from looptrace_production.templates import category_key

PROCESSES = ("knitting", "linking", "cutting", "printing", "embroidery", "sewing", "washing")
_DAY = timedelta(days=1)

Bucket = str
LoadKey = tuple[str, date, Bucket]  # supplier id, Monday of the week, bucket
Load = dict[LoadKey, float]
# what a plan's load depends on that can change: the supplier and each stage's dates
Signature = tuple[str, bool, tuple[tuple[int, date | None, date | None], ...]]


def week_of(day: date) -> date:
    """The Monday of ``day``'s ISO week."""
    return day - timedelta(days=day.weekday())


def category_bucket(category: str) -> Bucket:
    return f"category:{category_key(category)}"


def process_bucket(process: str) -> Bucket:
    return f"process:{process.strip().lower()}"


def processes_of(stage_name: str) -> tuple[str, ...]:
    """The processes a stage's name names ("Printing / Embroidery": printing, embroidery)."""
    name = stage_name.lower()
    return tuple(p for p in PROCESSES if p in name)


def spread(quantity: float, start: date, end: date, calendar: Calendar) -> dict[date, float]:
    """``quantity`` over the working days of ``[start, end]``, summed per week (Monday)."""
    if end < start:
        start, end = end, start
    days, day = [], start
    while day <= end:
        if calendar.is_working_day(day):
            days.append(day)
        day += _DAY
    if not days:
        return {week_of(end): float(quantity)}
    share = quantity / len(days)
    weeks: dict[date, float] = {}
    for d in days:
        week = week_of(d)
        weeks[week] = weeks.get(week, 0.0) + share
    return weeks


def main_stage(stages: Iterable[Stage]) -> int | None:
    """The number of the longest stage (the first of equals): the category's capacity stage."""
    best: Stage | None = None
    for stage in stages:
        if best is None or stage.duration_days > best.duration_days:
            best = stage
    return best.number if best else None


def signature(supplier_id: str, active: bool, stages: Iterable[Stage]) -> Signature:
    """What the load of a plan depends on that can change (the template's stages do not)."""
    dates = tuple((s.number, s.forecast_start, s.forecast_end) for s in stages if not s.skipped)
    return (supplier_id, active, dates)


@dataclass(frozen=True)
class PlanShape:
    """What does not change in a plan's load: category, quantity, calendar, stage templates."""

    category: str
    quantity: int
    calendar: Calendar
    stages: Mapping[int, Stage]  # by number

    def buckets(self, number: int, main: int | None) -> list[Bucket]:
        buckets = [process_bucket(p) for p in processes_of(self.stages[number].name)]
        if number == main:
            buckets.append(category_bucket(self.category))
        return buckets

    def load(self, sig: Signature | None) -> Load:
        """The plan's load with the supplier and stage dates of ``sig`` (None: no load)."""
        total: Load = {}
        if sig is None or not sig[1]:
            return total
        supplier_id, _, dates = sig
        main = main_stage(s for s in self.stages.values() if not s.skipped)
        for number, start, end in dates:
            buckets = self.buckets(number, main)
            if not buckets or start is None or end is None:
                continue
            weeks = spread(self.quantity, start, end, self.calendar)
            for bucket in buckets:
                for week, units in weeks.items():
                    key = (supplier_id, week, bucket)
                    total[key] = total.get(key, 0.0) + units
        return total


def delta(old: Load, new: Load) -> Load:
    """``new - old`` per key, negative values kept; keys that cancel out left out."""
    out: Load = {}
    for key in old.keys() | new.keys():
        change = new.get(key, 0.0) - old.get(key, 0.0)
        if abs(change) > 1e-9:
            out[key] = change
    return out


def utilisation_pct(load_units: float, capacity_units: int | None) -> float | None:
    """Load as a percentage of capacity (one decimal); None without a positive capacity."""
    if not capacity_units or capacity_units <= 0:
        return None
    return round(100.0 * load_units / capacity_units, 1)


def overloaded(load_units: float, capacity_units: int | None) -> bool:
    return bool(capacity_units and capacity_units > 0 and load_units > capacity_units + 1e-6)


def capacity_on(week: date, rows: Iterable[tuple[date, date | None, int]]) -> int | None:
    """The capacity effective in ``week``: the latest ``(from, to, units)`` covering it."""
    best: tuple[date, int] | None = None
    for start, end, units in rows:
        if start <= week + timedelta(days=6) and (end is None or end >= week):
            if best is None or start > best[0]:
                best = (start, units)
    return best[1] if best else None


def add(total: Load, more: Mapping[LoadKey, float]) -> Load:
    for key, units in more.items():
        total[key] = total.get(key, 0.0) + units
    return total
