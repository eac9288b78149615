"""Two projections of an order's completion from what was known on a date.

Both are the yardsticks ``evaluate`` holds the model against, and the production
forecast is also the anchor the model's quantiles are measured from.

* **production forecast** — production's re-forecast rule (``services/production``'s
  domain): a finished stage ends on its actual end; a started stage ends its planned
  number of days after its actual start; a stage not started starts on the later of its
  planned start and the forecast end of the stage before it, and runs its planned days.
  The order's forecast completion is its last stage's forecast end.
* **earned schedule** — the pace of work so far carried to the end: earned schedule
  ES = progress_fraction × planned duration, actual time AT = elapsed days, and the
  projected total duration = planned duration × AT / ES (no projection beyond
  ``MAX_PACE_FACTOR`` × the plan while hardly any work is earned yet).

The projections read a ``StageTable`` (stages as orders × positions arrays) only through
``forecast_end_days``, so how the plan is learned can change without touching them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from looptrace_predictions.arrays import StageTable

MAX_PACE_FACTOR = 3.0
MIN_EARNED_FRACTION = 0.02


def forecast_end_days(stages: StageTable, rows: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Production's forecast end (epoch day) of order ``rows[i]`` as known on ``t[i]``."""
    valid = stages.valid[rows]
    ps, pe = stages.planned_start[rows], stages.planned_end[rows]
    actual_start, actual_end = stages.actual_start[rows], stages.actual_end[rows]
    end = np.full(len(rows), -np.inf)
    for k in range(valid.shape[1]):
        duration = pe[:, k] - ps[:, k]
        done = actual_end[:, k] <= t
        started = actual_start[:, k] <= t
        waiting_start = np.maximum(ps[:, k], end)
        stage_end = np.where(
            done, actual_end[:, k], np.where(started, actual_start[:, k], waiting_start) + duration
        )
        end = np.where(valid[:, k], stage_end, end)
    return end


def production_forecast_delay(features: pd.DataFrame) -> np.ndarray:
    """Days late by production's forecast (never negative)."""
    return np.maximum(0.0, features["forecast_lateness_days"].to_numpy(dtype=float))


def earned_schedule_lateness(features: pd.DataFrame) -> np.ndarray:
    """Signed days past the target by the earned-schedule projection."""
    duration = features["planned_duration_days"].to_numpy(dtype=float)
    elapsed = features["elapsed_fraction"].to_numpy(dtype=float) * duration
    earned = np.maximum(features["progress_fraction"].to_numpy(dtype=float), MIN_EARNED_FRACTION)
    pace = np.where(elapsed > 0, elapsed / (earned * duration), 1.0)
    projected_total = duration * np.clip(pace, 1.0 / MAX_PACE_FACTOR, MAX_PACE_FACTOR)
    remaining = projected_total - elapsed
    return remaining - features["days_to_target"].to_numpy(dtype=float)


def earned_schedule_delay(features: pd.DataFrame) -> np.ndarray:
    """Days late by the earned-schedule projection (never negative)."""
    return np.maximum(0.0, earned_schedule_lateness(features))
