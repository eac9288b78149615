"""Why an order is at risk, in words, and what to do about it.

Contribution measure: every driver is turned into the days of delay it points
to, using plain rules rather than the model's internals —

* supplier record: the supplier's average delay on its recent finished orders;
* current stage start slip: days it started (or is waiting) behind plan;
* current stage overrun: days past its planned end;
* progress behind elapsed time: progress_gap × planned duration (days of plan);
* earlier slips: the largest end slip of a finished stage;
* QC rework: ``QC_REWORK_DAYS`` per failed inspection so far;
* supplier load: ``LOAD_DAYS_PER_ORDER`` per open order above ``NORMAL_LOAD``;
* supplier over capacity in the order's window: one day per ``OVERLOAD_PCT_PER_DAY``
  percentage points above capacity of its most loaded week (``capacity.py``);
* remaining work vs time left: planned days still to do minus days to target;
* the pre-production sample: the days it is (or was) late, since bulk waits for its approval.

Drivers worth at least ``MIN_DRIVER_DAYS`` are ranked by those days; the top
``TOP_DRIVERS`` are returned with the actions they call for (deduplicated).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from looptrace_predictions.stage_params import MAKING_STAGES, QUALITY_STAGES, SOURCING_STAGES

TOP_DRIVERS = 3
MIN_DRIVER_DAYS = 1.0
QC_REWORK_DAYS = 3.0
LOAD_DAYS_PER_ORDER = 0.5
NORMAL_LOAD = 8
OVERLOAD_PCT_PER_DAY = 10.0

EXPEDITE_FABRIC = "expedite fabric and trims with the mill"
ADD_CAPACITY = "add a sewing line or approve overtime"
SPLIT_SHIPMENT = "split the shipment: ship the finished quantity first"
BOOK_INSPECTION = "book the final inspection early"
RENEGOTIATE = "renegotiate the delivery date with the buyer"
CHASE_SAMPLE = "chase the pre-production sample: courier it today and ask for a quick decision"

Row = Mapping[str, Any]


@dataclass(frozen=True)
class Driver:
    days: float
    text: str
    actions: tuple[str, ...]


def explain(feature_row: Row) -> tuple[list[str], list[str]]:
    """(top drivers in words, recommended actions) for one feature row."""
    found = [driver for rule in _RULES if (driver := rule(feature_row)) is not None]
    ranked = sorted(
        (d for d in found if d.days >= MIN_DRIVER_DAYS), key=lambda d: d.days, reverse=True
    )[:TOP_DRIVERS]
    actions = list(dict.fromkeys(a for d in ranked for a in d.actions))
    return [d.text for d in ranked], actions


def _stage_actions(stage: str) -> tuple[str, ...]:
    if stage in SOURCING_STAGES:
        return (EXPEDITE_FABRIC,)
    if stage in MAKING_STAGES:
        return (ADD_CAPACITY,)
    if stage in QUALITY_STAGES:
        return (BOOK_INSPECTION,)
    return (ADD_CAPACITY,)


def _supplier_record(row: Row) -> Driver | None:
    if row["supplier_past_orders"] < 1:
        return None
    days = float(row["supplier_avg_delay_days"])
    supplier = row.get("supplier_id", "the supplier")
    text = f"supplier {supplier}'s last orders finished {days:.1f} days late on average"
    return Driver(days, text, (BOOK_INSPECTION, SPLIT_SHIPMENT))


def _start_slip(row: Row) -> Driver | None:
    stage, days = (
        row.get("current_stage_name", "the current stage"),
        row["current_stage_start_slip"],
    )
    if row.get("current_stage_started", True):
        text = f"{stage} started {days:.0f} days behind plan"
    else:
        text = f"{stage} has not started; it was planned to start {days:.0f} days ago"
    return Driver(float(days), text, _stage_actions(str(stage)))


def _overrun(row: Row) -> Driver | None:
    stage, days = (
        row.get("current_stage_name", "the current stage"),
        row["current_stage_overdue_days"],
    )
    text = f"{stage} has run {days:.0f} days past its planned end"
    return Driver(float(days), text, _stage_actions(str(stage)))


def _behind(row: Row) -> Driver | None:
    gap = float(row["progress_gap"])
    text = f"progress is {gap:.0%} behind elapsed time"
    return Driver(gap * float(row["planned_duration_days"]), text, (ADD_CAPACITY,))


def _earlier_slips(row: Row) -> Driver | None:
    days = float(row["finished_end_slip_max"])
    return Driver(days, f"finished stages ended up to {days:.0f} days behind plan", ())


def _qc_rework(row: Row) -> Driver | None:
    count = float(row["qc_failures_so_far"])
    text = f"quality control failed {count:.0f} time(s) so far (rework)"
    return Driver(QC_REWORK_DAYS * count, text, (BOOK_INSPECTION,))


def _load(row: Row) -> Driver | None:
    load = float(row["supplier_open_orders"])
    text = f"the supplier has {load:.0f} orders in production at once"
    return Driver(LOAD_DAYS_PER_ORDER * (load - NORMAL_LOAD), text, (SPLIT_SHIPMENT,))


def _over_capacity(row: Row) -> Driver | None:
    over = float(row.get("supplier_window_overload_pct", math.nan))
    if not over > 0:
        return None
    supplier = row.get("supplier_id", "the supplier")
    bucket = str(row.get("overload_bucket") or "")
    what = f"its {bucket.split(':', 1)[-1]} capacity" if bucket else "its capacity"
    text = f"supplier {supplier} is at {100 + over:.0f} % of {what}{_weeks(row)}"
    return Driver(over / OVERLOAD_PCT_PER_DAY, text, (SPLIT_SHIPMENT, ADD_CAPACITY))


def _weeks(row: Row) -> str:
    first, last = row.get("overload_first_week"), row.get("overload_last_week")
    if not isinstance(first, date) or not isinstance(last, date):
        return " in the order's remaining weeks"
    a, b = first.isocalendar().week, last.isocalendar().week
    return f" in week {a}" if first == last else f" in weeks {a}–{b}"


def _time_left(row: Row) -> Driver | None:
    remaining = (1.0 - float(row["progress_fraction"])) * float(row["planned_duration_days"])
    left = float(row["days_to_target"])
    if left < 0:
        text = f"the target date passed {-left:.0f} days ago"
    else:
        text = f"{remaining:.0f} planned days of work remain but only {left:.0f} days to the target"
    return Driver(remaining - left, text, (RENEGOTIATE, SPLIT_SHIPMENT))


def _pp_sample(row: Row) -> Driver | None:
    late, rounds = float(row.get("pp_sample_days_late", 0.0)), row.get("pp_sample_rounds", 0.0)
    if late <= 0:
        return None
    return Driver(late, f"PP sample {late:.0f} days late, round {rounds:.0f}", (CHASE_SAMPLE,))


_RULES: tuple[Callable[[Row], Driver | None], ...] = (
    _supplier_record,
    _start_slip,
    _overrun,
    _behind,
    _earlier_slips,
    _qc_rework,
    _load,
    _over_capacity,
    _time_left,
    _pp_sample,
)
