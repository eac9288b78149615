"""Warnings over each order's life: when the first medium/high came, and the thresholds.

An order's *life* is its open snapshots every ``LIFE_STEP`` of its planned duration, from
``LIFE_STEP`` up to ``LIFE_UNTIL`` × the plan (orders still open then are rare). Levels are
read without hysteresis (the worker's margin only delays a change by a few hundredths).

Thresholds, chosen on the validation split for a stated trade-off:

* medium — the lowest P(late) at which at most ``MEDIUM_FALSE_ALARMS`` of 100 on-time
  orders would ever have been warned (medium or high) while open;
* high — the same with at most ``HIGH_FALSE_ALARMS`` of 100.

So the model may warn earlier than the rule, but never by crying wolf more than that.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from looptrace_predictions.baseline import baseline_levels
from looptrace_predictions.training.metrics import lead_time_summary, warning_lead_times
from looptrace_predictions.training.snapshots import IndexedHistory, build_snapshots

LIFE_STEP = 0.025
LIFE_UNTIL = 1.5
LIFE_FRACTIONS = tuple(round(LIFE_STEP * k, 4) for k in range(1, int(LIFE_UNTIL / LIFE_STEP) + 1))
MEDIUM_FALSE_ALARMS = 0.15
HIGH_FALSE_ALARMS = 0.05

Score = Callable[[pd.DataFrame], np.ndarray]


def life_snapshots(indexed: IndexedHistory, order_ids: pd.Index | None = None) -> pd.DataFrame:
    """The labelled open snapshots of every (or of these) order(s) over its life."""
    life = build_snapshots(indexed, LIFE_FRACTIONS)
    life = life[life["labelled"]]
    if order_ids is not None:
        life = life[life["order_id"].isin(order_ids)]
    return life.reset_index(drop=True)


def threshold_for(life: pd.DataFrame, p: np.ndarray, budget: float) -> float:
    """The lowest P(late) that warns at most ``budget`` of the on-time orders."""
    peak = pd.Series(p).groupby(life["order_id"].to_numpy()).max()
    late = life.groupby("order_id", sort=False)["late"].first().reindex(peak.index)
    on_time = np.sort(peak[~late.to_numpy(dtype=bool)].to_numpy())[::-1]
    if len(on_time) == 0:
        return 0.5
    allowed = int(np.floor(budget * len(on_time)))
    if allowed >= len(on_time):
        return 0.0
    return float(min(1.0, np.nextafter(on_time[allowed], 2.0)))


def choose_thresholds(life: pd.DataFrame, p: np.ndarray) -> dict[str, float]:
    medium = threshold_for(life, p, MEDIUM_FALSE_ALARMS)
    high = max(medium, threshold_for(life, p, HIGH_FALSE_ALARMS))
    return {"medium": round(medium, 6), "high": round(high, 6)}


def compare_warnings(life: pd.DataFrame, p: np.ndarray, thresholds: dict[str, float]) -> dict:
    """Lead time and false alarms of the model at ``thresholds`` and of the rule."""
    rule_warns = baseline_levels(life) != "low"
    model = lead_time_summary(warning_lead_times(life, p >= thresholds["medium"]))
    rule = lead_time_summary(warning_lead_times(life, rule_warns))
    gain = model["median_lead_days_late"] - rule["median_lead_days_late"]
    return {"thresholds": thresholds, "model": model, "rule": rule, "earlier_than_rule_days": gain}
