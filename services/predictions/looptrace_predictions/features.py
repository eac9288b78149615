"""The feature vector of an order on a given date, from what was known then.

One function, ``assemble_features``, computes every feature for both training
snapshots (``snapshots.py``) and live orders (``state.py``), so the worker
scores with exactly the training features. Only events dated on or before the
snapshot date count: a stage is *done* when ``actual_end <= as_of`` and
*started* when ``actual_start <= as_of``.

Definitions (days are calendar days):

* ``elapsed_fraction`` = (as_of - order_date) / (last planned_end - order_date)
* ``progress_fraction`` = (planned days of done stages + planned days of the
  current stage already run, capped at its plan) / total planned days
* ``progress_gap`` = elapsed_fraction - progress_fraction (> 0: behind)
* ``current_stage`` = first stage (by stage_number) not done; its start slip is
  actual_start - planned_start, or, if not started, how long past its planned
  start it is waiting (never negative)
* slips of done stages = actual_end - planned_end
* ``qc_failures_so_far`` counts rework loops of done stages only (a stage's count
  is final only once it ends)
* ``supplier_window_overload_pct``: percentage points the supplier's most loaded week of the
  order's remaining window is above its capacity (``capacity.py``)
* ``forecast_lateness_days`` = production's forecast completion − target, and
  ``earned_schedule_lateness_days`` = the earned-schedule projection's (``projection.py``)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from looptrace_predictions.arrays import OrderTable, StageTable
from looptrace_predictions.projection import earned_schedule_lateness, forecast_end_days
from looptrace_predictions.supplier_history import SupplierFeatures

NUMERIC_FEATURES = [
    "quantity",
    "planned_duration_days",
    "target_slack_days",
    "days_to_target",
    "elapsed_fraction",
    "progress_fraction",
    "progress_gap",
    "finished_stages",
    "current_stage_number",
    "current_stage_days_running",
    "current_stage_run_ratio",
    "current_stage_start_slip",
    "current_stage_overdue_days",
    "finished_end_slip_sum",
    "finished_end_slip_max",
    "last_finished_end_slip",
    "qc_failures_so_far",
    "supplier_past_orders",
    "supplier_on_time_rate",
    "supplier_avg_stage_slip",
    "supplier_avg_delay_days",
    "supplier_open_orders",
    "supplier_window_overload_pct",
    "as_of_month",
    "forecast_lateness_days",
    "earned_schedule_lateness_days",
]
CATEGORICAL_FEATURES = ["product_category"]
FEATURES = CATEGORICAL_FEATURES + NUMERIC_FEATURES
INFO_COLUMNS = ["order_id", "supplier_id", "as_of", "current_stage_name", "current_stage_started"]
EPOCH = np.datetime64("1970-01-01", "D")


def epoch_days(values: pd.Series | np.ndarray) -> np.ndarray:
    """Dates → float days since 1970-01-01 (NaN for missing)."""
    as_dates = pd.to_datetime(pd.Series(values)).to_numpy(dtype="datetime64[D]")
    days = (as_dates - EPOCH).astype("timedelta64[D]").astype("float64")
    days[np.isnat(as_dates)] = np.nan
    return days


def assemble_features(
    orders: OrderTable,
    stages: StageTable,
    rows: np.ndarray,
    as_of: np.ndarray,
    supplier: SupplierFeatures,
) -> pd.DataFrame:
    """Feature frame for order ``rows[i]`` as of epoch day ``as_of[i]``."""
    frame = pd.DataFrame(
        {
            "order_id": orders.order_id[rows],
            "supplier_id": orders.supplier_id[rows],
            "as_of": EPOCH + as_of.astype("int64").astype("timedelta64[D]"),
            "product_category": orders.product_category[rows],
            "quantity": orders.quantity[rows].astype(float),
        }
    )
    plan = _plan_features(orders, stages, rows, as_of)
    progress = _stage_features(stages, rows, as_of)
    for name, values in {**plan, **progress, **supplier.as_columns()}.items():
        frame[name] = values
    frame["progress_gap"] = frame["elapsed_fraction"] - frame["progress_fraction"]
    frame["as_of_month"] = pd.DatetimeIndex(frame["as_of"]).month.astype(float)
    frame["forecast_lateness_days"] = (
        forecast_end_days(stages, rows, as_of) - orders.target_day[rows]
    )
    frame["earned_schedule_lateness_days"] = earned_schedule_lateness(frame)
    return frame[INFO_COLUMNS + FEATURES]


def _plan_features(
    orders: OrderTable, stages: StageTable, rows: np.ndarray, t: np.ndarray
) -> dict[str, np.ndarray]:
    order_day = orders.order_day[rows]
    plan_end = np.nanmax(stages.planned_end[rows], axis=1)
    duration = np.maximum(plan_end - order_day, 1.0)
    return {
        "planned_duration_days": duration,
        "target_slack_days": orders.target_day[rows] - plan_end,
        "days_to_target": orders.target_day[rows] - t,
        "elapsed_fraction": (t - order_day) / duration,
    }


def _stage_features(stages: StageTable, rows: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
    valid = stages.valid[rows]
    ps, pe = stages.planned_start[rows], stages.planned_end[rows]
    actual_start, actual_end = stages.actual_start[rows], stages.actual_end[rows]
    tt = t[:, None]
    done = valid & (actual_end <= tt)
    started = valid & (actual_start <= tt)
    planned_days = np.where(valid, pe - ps, 0.0)
    pending = valid & ~done
    has_current = pending.any(axis=1)
    r = np.arange(len(rows))
    cur = np.argmax(pending, axis=1)
    cur_started = started[r, cur] & has_current
    cur_planned = np.maximum(planned_days[r, cur], 1.0)
    running = np.where(cur_started, t - actual_start[r, cur], 0.0)
    credit = np.where(done, planned_days, 0.0).sum(axis=1)
    credit += np.where(has_current, np.minimum(running, planned_days[r, cur]), 0.0)
    waiting = np.maximum(t - ps[r, cur], 0.0)
    start_slip = np.where(cur_started, actual_start[r, cur] - ps[r, cur], waiting)
    end_slip = np.where(done, actual_end - pe, 0.0)
    any_done = done.any(axis=1)
    last_done = done.shape[1] - 1 - np.argmax(done[:, ::-1], axis=1)
    names = stages.stage_name[rows]
    return {
        "progress_fraction": credit / np.maximum(planned_days.sum(axis=1), 1.0),
        "finished_stages": done.sum(axis=1).astype(float),
        "current_stage_number": np.where(
            has_current, stages.stage_number[rows][r, cur], valid.sum(axis=1) + 1.0
        ),
        "current_stage_name": np.where(has_current, names[r, cur], "finished"),
        "current_stage_started": cur_started,
        "current_stage_days_running": running,
        "current_stage_run_ratio": running / cur_planned,
        "current_stage_start_slip": np.where(has_current, start_slip, 0.0),
        "current_stage_overdue_days": np.where(has_current, np.maximum(t - pe[r, cur], 0.0), 0.0),
        "finished_end_slip_sum": end_slip.sum(axis=1),
        "finished_end_slip_max": np.where(any_done, np.where(done, end_slip, -np.inf).max(1), 0.0),
        "last_finished_end_slip": np.where(any_done, end_slip[r, last_done], 0.0),
        "qc_failures_so_far": np.where(done, stages.qc_failures[rows], 0.0).sum(axis=1),
    }
