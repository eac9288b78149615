"""The product's rule of thumb, used as the yardstick for the model.

* high   — the target date has passed (days_to_target < 0);
* medium — progress is more than ``BEHIND_MARGIN`` (20 percentage points of the
  plan) behind elapsed time (``progress_gap > 0.2``, see ``features.py``);
* low    — otherwise.

For metrics the levels map to P(late) via ``LEVEL_PROBABILITY`` and the
expected delay is what the order already shows: days past the target so far,
or, if larger, the days it is behind plan beyond the target's slack
(progress_gap × planned duration − target slack).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

BEHIND_MARGIN = 0.2
LEVEL_PROBABILITY = {"low": 0.1, "medium": 0.5, "high": 0.9}


def baseline_levels(features: pd.DataFrame) -> np.ndarray:
    past_target = features["days_to_target"].to_numpy() < 0
    behind = features["progress_gap"].to_numpy() > BEHIND_MARGIN
    return np.where(past_target, "high", np.where(behind, "medium", "low")).astype(object)


def baseline_predict(features: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(P(late), expected delay days) of the rule for every row."""
    levels = baseline_levels(features)
    p_late = np.select(
        [levels == level for level in LEVEL_PROBABILITY], list(LEVEL_PROBABILITY.values())
    )
    days_past = -features["days_to_target"].to_numpy(dtype=float)
    behind_days = features["progress_gap"].to_numpy(dtype=float) * features[
        "planned_duration_days"
    ].to_numpy(dtype=float) - features["target_slack_days"].to_numpy(dtype=float)
    return p_late, np.maximum(0.0, np.maximum(days_past, behind_days))
