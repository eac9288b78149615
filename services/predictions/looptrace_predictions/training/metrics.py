"""Plain metric functions (arrays in, numbers out) that ``evaluation`` reports.

* ``expected_calibration_error``: P(late) cut into ``bins`` equal-width bins;
  ECE = Σ over bins of (rows in bin / all rows) × |mean P(late) − late rate|.
* ``reliability_bins``: the same bins, for the reliability diagram.
* ``interval_coverage``: share of outcomes with low ≤ outcome ≤ high.
* ``warning_lead_times``: per order, the days between its first warning and its target
  date (positive = warned before the target); an order never warned while open gets
  target − end (the buyer learns of the delay when it ends).
* ``lead_time_summary``: median lead time of the late orders and false alarms per 100
  on-time orders (an on-time order warned at least once while open).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ECE_BINS = 10


def _bin_index(p: np.ndarray, bins: int) -> np.ndarray:
    return np.minimum((np.asarray(p, dtype=float) * bins).astype(int), bins - 1)


def reliability_bins(late: np.ndarray, p: np.ndarray, bins: int = ECE_BINS) -> list[dict]:
    """Per non-empty bin: its range, rows, mean P(late) and the observed late rate."""
    index = _bin_index(p, bins)
    out = []
    for b in range(bins):
        mask = index == b
        if mask.any():
            out.append(
                {
                    "from": b / bins,
                    "to": (b + 1) / bins,
                    "n": int(mask.sum()),
                    "mean_p": float(np.mean(p[mask])),
                    "late_rate": float(np.mean(late[mask])),
                }
            )
    return out


def expected_calibration_error(late: np.ndarray, p: np.ndarray, bins: int = ECE_BINS) -> float:
    if len(p) == 0:
        return float("nan")
    table = reliability_bins(np.asarray(late, dtype=float), np.asarray(p, dtype=float), bins)
    return float(sum(b["n"] * abs(b["mean_p"] - b["late_rate"]) for b in table) / len(p))


def interval_coverage(actual: np.ndarray, low: np.ndarray, high: np.ndarray) -> float:
    if len(actual) == 0:
        return float("nan")
    return float(np.mean((low <= actual) & (actual <= high)))


def warning_lead_times(life: pd.DataFrame, warned: np.ndarray) -> pd.DataFrame:
    """One row per order of ``life`` (its open snapshots, with ``as_of``, ``days_to_target``,
    ``late``, ``lateness_days``): late, first warning's lead time in days."""
    frame = pd.DataFrame(
        {
            "order_id": life["order_id"].to_numpy(),
            "late": life["late"].to_numpy(dtype=bool),
            "lead": np.where(warned, life["days_to_target"].to_numpy(dtype=float), -np.inf),
            "unwarned": -life["lateness_days"].to_numpy(dtype=float),
        }
    )
    per_order = frame.groupby("order_id", sort=False).agg(
        late=("late", "first"), lead=("lead", "max"), unwarned=("unwarned", "first")
    )
    per_order["warned"] = np.isfinite(per_order["lead"])
    per_order["lead_days"] = np.where(per_order["warned"], per_order["lead"], per_order["unwarned"])
    return per_order[["late", "warned", "lead_days"]]


def lead_time_summary(per_order: pd.DataFrame) -> dict[str, float]:
    late = per_order[per_order["late"]]
    on_time = per_order[~per_order["late"]]
    return {
        "median_lead_days_late": float(np.median(late["lead_days"])) if len(late) else np.nan,
        "warned_before_end_late_share": float(late["warned"].mean()) if len(late) else np.nan,
        "false_alarms_per_100_on_time": (
            float(100 * on_time["warned"].mean()) if len(on_time) else np.nan
        ),
        "late_orders": int(len(late)),
        "on_time_orders": int(len(on_time)),
    }
