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
- A closed plan (the order cancelled, or signed off as completed before its stages were all
  reported) keeps the load of the days up to the day it closed and releases the rest: each
  stage's share of the days after that day (``spread``'s ``through``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping, Sequence
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


def week_of(day: date) -> date:
    """The Monday of ``day``'s ISO week."""
    return day - timedelta(days=day.weekday())


def category_bucket(category: str) -> Bucket:
    return sys.intern(f"category:{category_key(category)}")  # one string in every cached plan


def process_bucket(process: str) -> Bucket:
    return sys.intern(f"process:{process.strip().lower()}")


def processes_of(stage_name: str) -> tuple[str, ...]:
    """The processes a stage's name names ("Printing / Embroidery": printing, embroidery)."""
    name = stage_name.lower()
    return tuple(p for p in PROCESSES if p in name)


def spread(
    quantity: float, start: date, end: date, calendar: Calendar, through: date | None = None
) -> dict[date, float]:
    """``quantity`` over the working days of ``[start, end]``, summed per week (Monday).
    With ``through``, only the shares of the days up to it (a closed plan's past)."""
    if end < start:
        start, end = end, start
    days, day = [], start
    while day <= end:
        if calendar.is_working_day(day):
            days.append(day)
        day += _DAY
    if not days:
        return {week_of(end): float(quantity)} if through is None or end <= through else {}
    share = quantity / len(days)
    weeks: dict[date, float] = {}
    for d in days:
        if through is not None and d > through:
            break
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


Dates = tuple[tuple[date | None, date | None], ...]  # of the loading stages, in order
# the supplier, the loading stages' forecast dates, and the day the plan closed (None: open)
Signature = tuple[str, Dates, date | None]


def _add_spread(
    total: Load,
    supplier_id: str,
    buckets: tuple[Bucket, ...],
    weeks: dict[date, float],
    sign: float,
) -> None:
    for bucket in buckets:
        for week, units in weeks.items():
            key = (supplier_id, week, bucket)
            total[key] = total.get(key, 0.0) + sign * units


@dataclass(frozen=True)
class Loading:
    """Which stages of a plan load which buckets: fixed when the plan is made (the template's
    stages never change), so worked out once per plan. ``index`` is the stage's place in
    ``plan.stages``; only stages that load some bucket are listed."""

    quantity: int
    calendar: Calendar
    stages: tuple[tuple[int, tuple[Bucket, ...]], ...]  # (index, buckets)

    @classmethod
    def of(
        cls, category: str, quantity: int, calendar: Calendar, stages: Sequence[Stage]
    ) -> Loading:
        active = [s for s in stages if not s.skipped]
        main = main_stage(active)
        out = []
        for index, stage in enumerate(stages):
            if stage.skipped:
                continue
            buckets = [process_bucket(p) for p in processes_of(stage.name)]
            if stage.number == main:
                buckets.append(category_bucket(category))
            if buckets:
                out.append((index, tuple(buckets)))
        return cls(quantity, calendar, tuple(out))

    def signature(
        self, supplier_id: str, stages: Sequence[Stage], closed_on: date | None = None
    ) -> Signature:
        return (
            supplier_id,
            tuple((stages[i].forecast_start, stages[i].forecast_end) for i, _ in self.stages),
            closed_on,
        )

    def _stage(self, total: Load, supplier_id: str, buckets: tuple[Bucket, ...],
               dates: tuple[date | None, date | None], sign: float,
               through: date | None) -> None:  # fmt: skip
        start, end = dates
        if start is not None and end is not None:
            weeks = spread(self.quantity, start, end, self.calendar, through)
            _add_spread(total, supplier_id, buckets, weeks, sign)

    def load(self, sig: Signature | None) -> Load:
        """The plan's load with the supplier, stage dates and closing day of ``sig`` (None:
        no load)."""
        total: Load = {}
        if sig is not None:
            for (_, buckets), dates in zip(self.stages, sig[1], strict=True):
                self._stage(total, sig[0], buckets, dates, 1.0, sig[2])
        return total

    def change(self, old: Signature | None, new: Signature | None) -> Load:
        """``load(new) - load(old)``, spreading only the stages whose dates moved (all of
        them when the supplier changed or the plan closed)."""
        if old is None or new is None or old[0] != new[0] or old[2] != new[2]:
            return delta(self.load(old), self.load(new))
        total: Load = {}
        through = new[2]
        for (_, buckets), was, now in zip(self.stages, old[1], new[1], strict=True):
            if was != now:
                self._stage(total, old[0], buckets, was, -1.0, through)
                self._stage(total, new[0], buckets, now, 1.0, through)
        return {k: v for k, v in total.items() if abs(v) > 1e-9}


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


def crossings(
    units: float, was: bool, changes: Iterable[float], capacity_units: int | None
) -> tuple[float, list[tuple[int, bool, float]]]:
    """A supplier-week's load after ``changes`` (in the order they were made), and every
    crossing of its capacity on the way, as ``(index of the change, overloaded, units then)``:
    an overload undone by a later change is still one crossing each way. A stored state
    ``was`` that the capacity no longer agrees with crosses first (index -1)."""
    flips: list[tuple[int, bool, float]] = []
    state = overloaded(units, capacity_units)
    if state != was:
        flips.append((-1, state, units))
    for index, change in enumerate(changes):
        units += change
        now = overloaded(units, capacity_units)
        if now != state:
            flips.append((index, now, units))
            state = now
    return units, flips


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
