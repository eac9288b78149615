"""Orders and their stages as arrays, the form the feature and projection code compute on."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class OrderTable:
    """Order-level facts, one entry per order (dates as epoch days)."""

    order_id: np.ndarray
    supplier_id: np.ndarray
    product_category: np.ndarray
    quantity: np.ndarray
    order_day: np.ndarray
    target_day: np.ndarray


@dataclass(frozen=True)
class StageTable:
    """Stages of each order as (orders × max stages) arrays; NaN where absent."""

    stage_number: np.ndarray
    stage_name: np.ndarray
    planned_start: np.ndarray
    planned_end: np.ndarray
    actual_start: np.ndarray
    actual_end: np.ndarray
    qc_failures: np.ndarray

    @property
    def valid(self) -> np.ndarray:
        return ~np.isnan(self.planned_start)
