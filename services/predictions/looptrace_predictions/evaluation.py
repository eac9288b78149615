"""Model vs baseline: ROC AUC, Brier score and MAE of delay days.

Reported overall (all snapshots at 25 %, 50 % and 75 % of each order's planned
duration pooled) and at each of those fractions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import brier_score_loss, mean_absolute_error, roc_auc_score

from .baseline import baseline_predict
from .model import ScoringModel
from .snapshots import REPORT_FRACTIONS

Metrics = dict[str, dict[str, dict[str, float]]]


def compare(model: ScoringModel, snapshots: pd.DataFrame) -> Metrics:
    """Metrics of model and baseline on the labelled snapshots at report fractions."""
    rows = snapshots[snapshots["labelled"] & snapshots["fraction"].isin(REPORT_FRACTIONS)]
    if rows.empty:
        raise ValueError("no finished orders with snapshots at 25/50/75 % to evaluate on")
    predictions = {"model": model.predict(rows), "baseline": baseline_predict(rows)}
    groups = {"overall": np.ones(len(rows), dtype=bool)}
    groups |= {f"{f:.0%}": (rows["fraction"] == f).to_numpy() for f in REPORT_FRACTIONS}
    late = rows["late"].to_numpy(dtype=int)
    delay = rows["delay_days"].to_numpy(dtype=float)
    return {
        name: {
            group: _scores(late[mask], delay[mask], p[mask], days[mask])
            for group, mask in groups.items()
        }
        for name, (p, days) in predictions.items()
    }


def _scores(late: np.ndarray, delay: np.ndarray, p: np.ndarray, days: np.ndarray) -> dict:
    both_classes = 0 < late.sum() < len(late)
    return {
        "roc_auc": float(roc_auc_score(late, p)) if both_classes else float("nan"),
        "brier": float(brier_score_loss(late, p)) if len(late) else float("nan"),
        "delay_mae": float(mean_absolute_error(delay, days)) if len(late) else float("nan"),
        "n": int(len(late)),
    }
