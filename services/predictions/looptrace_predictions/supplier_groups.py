"""Supplier groups by track record on the snapshot date (for interval coverage and its fix).

new: fewer than ``NEW_SUPPLIER_BELOW`` finished orders; otherwise by on-time rate —
reliable (≥ 0.8), mixed (≥ 0.5), unreliable (< 0.5).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

NEW_SUPPLIER_BELOW = 5
GROUPS = ("new", "reliable", "mixed", "unreliable")


def supplier_groups(rows: pd.DataFrame) -> np.ndarray:
    rate = rows["supplier_on_time_rate"].to_numpy(dtype=float)
    known = np.where(rate >= 0.8, "reliable", np.where(rate >= 0.5, "mixed", "unreliable"))
    new = rows["supplier_past_orders"].to_numpy(dtype=float) < NEW_SUPPLIER_BELOW
    return np.where(new, "new", known).astype(object)
