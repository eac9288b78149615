"""A supplier's track record and load on a date, from the past only.

Track record = the supplier's last ``SUPPLIER_WINDOW`` orders whose last stage
ended strictly *before* the date. Rates are shrunk towards fixed priors (not
fitted on data, so nothing leaks) with the weight of ``PRIOR_WEIGHT`` orders:
``rate = (observed_sum + PRIOR_WEIGHT * prior) / (orders + PRIOR_WEIGHT)``.
A supplier with no finished orders gets exactly the priors.

Load = the supplier's open orders on the date: placed on or before it and not
ended on or before it (the scored order included).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

SUPPLIER_WINDOW = 20
PRIOR_WEIGHT = 3.0
PRIOR_ON_TIME_RATE = 0.7
PRIOR_DELAY_DAYS = 3.0
PRIOR_STAGE_SLIP = 0.5


@dataclass(frozen=True)
class SupplierTotals:
    """Raw sums over the supplier's recent ended orders (arrays, one per snapshot)."""

    ended_orders: np.ndarray
    on_time_orders: np.ndarray
    delay_days_total: np.ndarray
    stage_slip_total: np.ndarray


@dataclass(frozen=True)
class SupplierFeatures:
    totals: SupplierTotals
    open_orders: np.ndarray
    window_overload: np.ndarray | None = None  # ``capacity.py``; None: unknown (NaN)

    def as_columns(self) -> dict[str, np.ndarray]:
        n = self.totals.ended_orders.astype(float)
        shrink = n + PRIOR_WEIGHT
        return {
            "supplier_past_orders": n,
            "supplier_on_time_rate": (
                self.totals.on_time_orders + PRIOR_WEIGHT * PRIOR_ON_TIME_RATE
            )
            / shrink,
            "supplier_avg_stage_slip": (
                self.totals.stage_slip_total + PRIOR_WEIGHT * PRIOR_STAGE_SLIP
            )
            / shrink,
            "supplier_avg_delay_days": (
                self.totals.delay_days_total + PRIOR_WEIGHT * PRIOR_DELAY_DAYS
            )
            / shrink,
            "supplier_open_orders": self.open_orders.astype(float),
            "supplier_window_overload_pct": (
                np.full(len(n), np.nan)
                if self.window_overload is None
                else self.window_overload.astype(float)
            ),
        }


class SupplierLedger:
    """Every supplier's orders sorted by date, for vectorised as-of look-ups."""

    def __init__(self, supplier: np.ndarray, order_day: np.ndarray, outcomes: pd.DataFrame):
        """``outcomes`` has per order: end (epoch day, NaN if not ended), late,
        delay_days, mean_stage_slip; aligned with ``supplier`` and ``order_day``."""
        self.codes = {name: k for k, name in enumerate(pd.unique(supplier))}
        code = np.array([self.codes[s] for s in supplier], dtype=np.int64)
        self._span = float(np.nanmax(np.concatenate([order_day, outcomes["end"]])) + 2.0)
        ended = outcomes["end"].notna().to_numpy()
        self._placed = np.sort(self._key(code, order_day))
        end_key = self._key(code[ended], outcomes["end"].to_numpy()[ended])
        sort = np.argsort(end_key, kind="stable")
        self._ended = end_key[sort]
        ended_rows = outcomes[ended].iloc[sort]
        self._cum_on_time = _cumsum(~ended_rows["late"].to_numpy(dtype=bool))
        self._cum_delay = _cumsum(ended_rows["delay_days"].to_numpy(dtype=float))
        self._cum_slip = _cumsum(ended_rows["mean_stage_slip"].to_numpy(dtype=float))

    def _key(self, code: np.ndarray, day: np.ndarray) -> np.ndarray:
        return code * self._span + day

    def features(self, supplier: np.ndarray, as_of: np.ndarray) -> SupplierFeatures:
        code = np.array([self.codes.get(s, -1) for s in supplier], dtype=np.int64)
        day = np.minimum(as_of, self._span - 1.0)
        first_ended = np.searchsorted(self._ended, self._key(code, 0.0), side="left")
        before = np.searchsorted(self._ended, self._key(code, day), side="left")
        upto = np.searchsorted(self._ended, self._key(code, day), side="right")
        placed = np.searchsorted(self._placed, self._key(code, day), side="right")
        placed -= np.searchsorted(self._placed, self._key(code, 0.0), side="left")
        window_start = np.maximum(before - SUPPLIER_WINDOW, first_ended)
        totals = SupplierTotals(
            ended_orders=before - window_start,
            on_time_orders=self._cum_on_time[before] - self._cum_on_time[window_start],
            delay_days_total=self._cum_delay[before] - self._cum_delay[window_start],
            stage_slip_total=self._cum_slip[before] - self._cum_slip[window_start],
        )
        open_orders = np.where(code >= 0, placed - (upto - first_ended), 0)
        return SupplierFeatures(totals, open_orders)


def _cumsum(values: np.ndarray) -> np.ndarray:
    return np.concatenate([[0.0], np.cumsum(values, dtype=float)])
