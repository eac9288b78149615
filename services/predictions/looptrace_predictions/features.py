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

Stage-level pace (how this order's own stages overran, per unit of how much each kind of
stage tends to slip, ``stage_params.slip_weight``; unknown stages weigh 1):

* ``finished_overrun_days`` = Σ over done stages of (actual − planned duration);
  ``current_stage_overrun_days`` = days the running stage has run beyond its plan (≥ 0)
* ``order_slip_rate`` = (finished + current overrun) / (Σ slip weights of done stages + 1)
* ``remaining_slip_weight`` = Σ slip weights of the stages not done
* ``expected_remaining_slip_days`` = remaining_slip_weight × the order's rate shrunk towards
  its supplier's track record (``supplier_avg_stage_slip``) with the weight of 2 stages
* ``last_overrun_rate`` = the latest done stage's overrun per unit of its slip weight (0 when
  none is done): a stage's slip carries over mostly to the next one, so the latest pace says
  more than the average; ``recent_remaining_slip_days`` = remaining_slip_weight × it

The pre-production sample loop (``samples.py``): ``pp_sample_rounds`` (rounds requested so
far) and ``pp_sample_days_late`` (days past its due date the PP sample is, or was, unapproved).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from looptrace_predictions.arrays import OrderTable, StageTable
from looptrace_predictions.projection import earned_schedule_lateness, forecast_end_days
from looptrace_predictions.samples import SAMPLE_FEATURES, SampleTable, sample_features
from looptrace_predictions.stage_params import STAGE_PARAMS
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
    "finished_overrun_days",
    "current_stage_overrun_days",
    "order_slip_rate",
    "remaining_slip_weight",
    "expected_remaining_slip_days",
    "last_overrun_rate",
    "recent_remaining_slip_days",
    *SAMPLE_FEATURES,
]
CATEGORICAL_FEATURES = ["product_category"]
FEATURES = CATEGORICAL_FEATURES + NUMERIC_FEATURES
INFO_COLUMNS = ["order_id", "supplier_id", "as_of", "current_stage_name", "current_stage_started"]
EPOCH = np.datetime64("1970-01-01", "D")
PACE_PRIOR_STAGES = 2.0


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
    samples: SampleTable | None = None,
) -> pd.DataFrame:
    """Feature frame for order ``rows[i]`` as of epoch day ``as_of[i]`` (``samples``: the
    orders' PP sample loops; none known without)."""
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
    pace = _pace_features(orders.product_category[rows], stages, rows, as_of)
    loops = sample_features(samples or SampleTable.empty(len(orders.order_id)), rows, as_of)
    for name, values in {**plan, **progress, **pace, **loops, **supplier.as_columns()}.items():
        frame[name] = values
    frame["expected_remaining_slip_days"] = _expected_remaining_slip(frame, pace)
    frame["progress_gap"] = frame["elapsed_fraction"] - frame["progress_fraction"]
    frame["as_of_month"] = pd.DatetimeIndex(frame["as_of"]).month.astype(float)
    frame["forecast_lateness_days"] = (
        forecast_end_days(stages, rows, as_of) - orders.target_day[rows]
    )
    frame["earned_schedule_lateness_days"] = earned_schedule_lateness(frame)
    return frame[INFO_COLUMNS + FEATURES]


def slip_weights(categories: np.ndarray, names: np.ndarray) -> np.ndarray:
    """``stage_params.slip_weight`` of every (order's category, stage name); 1 when unknown."""
    lookup = pd.Series({key: params.slip_weight for key, params in STAGE_PARAMS.items()})
    category = np.repeat(np.asarray(categories, dtype=object)[:, None], names.shape[1], axis=1)
    keys = pd.MultiIndex.from_arrays([category.ravel(), np.asarray(names, dtype=object).ravel()])
    weights = lookup.reindex(keys).fillna(1.0).to_numpy(dtype=float)
    return weights.reshape(names.shape)


def _pace_features(
    categories: np.ndarray, stages: StageTable, rows: np.ndarray, t: np.ndarray
) -> dict[str, np.ndarray]:
    valid = stages.valid[rows]
    ps, pe = stages.planned_start[rows], stages.planned_end[rows]
    actual_start, actual_end = stages.actual_start[rows], stages.actual_end[rows]
    tt = t[:, None]
    done = valid & (actual_end <= tt)
    running = valid & ~done & (actual_start <= tt)
    weight = np.where(valid, slip_weights(categories, stages.stage_name[rows]), 0.0)
    stage_overrun = np.where(done, (actual_end - actual_start) - (pe - ps), 0.0)
    overrun = stage_overrun.sum(axis=1)
    current = np.where(running, np.maximum(tt - actual_start - (pe - ps), 0.0), 0.0).sum(axis=1)
    done_weight = np.where(done, weight, 0.0).sum(axis=1)
    remaining = np.where(done, 0.0, weight).sum(axis=1)
    last = done.shape[1] - 1 - np.argmax(done[:, ::-1], axis=1)
    r = np.arange(len(rows))
    last_rate = stage_overrun[r, last] / np.maximum(weight[r, last], 0.1)
    last_rate = np.where(done.any(axis=1), last_rate, 0.0)
    return {
        "finished_overrun_days": overrun,
        "current_stage_overrun_days": current,
        "order_slip_rate": (overrun + current) / (done_weight + 1.0),
        "remaining_slip_weight": remaining,
        "done_slip_weight": done_weight,
        "last_overrun_rate": last_rate,
        "recent_remaining_slip_days": remaining * last_rate,
    }


def _expected_remaining_slip(frame: pd.DataFrame, pace: dict[str, np.ndarray]) -> np.ndarray:
    """Remaining slip weight × the order's overrun rate shrunk towards its supplier's."""
    observed = pace["finished_overrun_days"] + pace["current_stage_overrun_days"]
    prior = frame["supplier_avg_stage_slip"].to_numpy(dtype=float)
    rate = (observed + PACE_PRIOR_STAGES * prior) / (pace["done_slip_weight"] + PACE_PRIOR_STAGES)
    result: np.ndarray = pace["remaining_slip_weight"] * rate
    return result


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
