"""What ``evaluate`` (and training's validation) reports, from labelled snapshots.

On the snapshots at 25 %, 50 % and 75 % of each order's planned duration (pooled as
``overall`` and per fraction):

* ``delay_mae`` — MAE in days of the model's expected delay (P50) against three honest
  baselines: ``no_delay`` (always 0), ``earned_schedule`` and ``production_forecast``
  (``projection.py``), and the old ``rule``; ``ratio_to_best_baseline`` = model MAE /
  the best of the three baselines;
* ``classification`` — ROC AUC, Brier score and expected calibration error of P(late),
  the model's and the rule's;
* ``intervals`` — coverage of the model's P10–P90 interval of the completion date
  (signed days past target; the delay interval is the same clipped at 0 and covers at
  least as often), overall, per fraction and per supplier group (its track record on
  the snapshot date), and the mean width in days;
* ``calibration`` — the reliability bins behind the ECE (``evaluate --plot`` draws them);

and, over each order's whole life (``lead_time.py``), ``warnings``: median days before the
target of the first medium/high warning for late orders, and false alarms per 100 on-time
orders, for the model at its saved thresholds and for the rule.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import brier_score_loss, mean_absolute_error, roc_auc_score

from looptrace_predictions.baseline import baseline_predict
from looptrace_predictions.projection import earned_schedule_delay, production_forecast_delay
from looptrace_predictions.risk import INTERVAL_LEVEL
from looptrace_predictions.risk_model import ScoringModel
from looptrace_predictions.supplier_groups import supplier_groups
from looptrace_predictions.training.lead_time import compare_warnings
from looptrace_predictions.training.metrics import (
    expected_calibration_error,
    interval_coverage,
    reliability_bins,
)
from looptrace_predictions.training.snapshots import REPORT_FRACTIONS

Metrics = dict[str, dict]
BASELINES = ("no_delay", "earned_schedule", "production_forecast")


def compare(model: ScoringModel, snapshots: pd.DataFrame, life: pd.DataFrame | None) -> Metrics:
    """Every metric above on the labelled snapshots (and lives, when given)."""
    rows = snapshots[snapshots["labelled"] & snapshots["fraction"].isin(REPORT_FRACTIONS)]
    if rows.empty:
        raise ValueError("no finished orders with snapshots at 25/50/75 % to evaluate on")
    estimate = model.estimate(rows)
    groups = {"overall": np.ones(len(rows), dtype=bool)}
    groups |= {f"{f:.0%}": (rows["fraction"] == f).to_numpy() for f in REPORT_FRACTIONS}
    late = rows["late"].to_numpy(dtype=int)
    rule_p, rule_delay = baseline_predict(rows)
    metrics: Metrics = {
        "delay_mae": _delay_mae(rows, estimate.delay[:, 1], rule_delay, groups),
        "classification": {
            "model": {g: _classes(late[m], estimate.p_late[m]) for g, m in groups.items()},
            "rule": {g: _classes(late[m], rule_p[m]) for g, m in groups.items()},
        },
        "intervals": _intervals(rows, estimate.lateness, groups),
        "calibration": {
            "model": reliability_bins(late, estimate.p_late),
            "rule": reliability_bins(late, rule_p),
        },
    }
    if life is not None and not life.empty:
        metrics["warnings"] = compare_warnings(life, model.estimate(life).p_late, model.thresholds)
    return metrics


def _mae(actual: np.ndarray, predicted: np.ndarray) -> float:
    return float(mean_absolute_error(actual, predicted)) if len(actual) else float("nan")


def _delay_mae(rows: pd.DataFrame, p50: np.ndarray, rule: np.ndarray, groups: dict) -> dict:
    actual = rows["delay_days"].to_numpy(dtype=float)
    points = {
        "no_delay": np.zeros(len(rows)),
        "earned_schedule": earned_schedule_delay(rows),
        "production_forecast": production_forecast_delay(rows),
        "rule": rule,
        "model": p50,
    }
    out = {}
    for group, mask in groups.items():
        scores = {name: _mae(actual[mask], values[mask]) for name, values in points.items()}
        best = min(scores[name] for name in BASELINES)
        out[group] = scores | {"ratio_to_best_baseline": scores["model"] / best if best else np.nan}
    return out


def _classes(late: np.ndarray, p: np.ndarray) -> dict:
    both_classes = 0 < late.sum() < len(late)
    return {
        "roc_auc": float(roc_auc_score(late, p)) if both_classes else float("nan"),
        "brier": float(brier_score_loss(late, p)) if len(late) else float("nan"),
        "ece": expected_calibration_error(late, p),
        "n": int(len(late)),
    }


def _intervals(rows: pd.DataFrame, lateness: np.ndarray, groups: dict) -> dict:
    actual = rows["lateness_days"].to_numpy(dtype=float)
    delay = rows["delay_days"].to_numpy(dtype=float)
    low, high = lateness[:, 0], lateness[:, 2]

    def one(mask: np.ndarray) -> dict:
        return {
            "coverage": interval_coverage(actual[mask], low[mask], high[mask]),
            "delay_coverage": interval_coverage(
                delay[mask], np.maximum(low[mask], 0), np.maximum(high[mask], 0)
            ),
            "mean_width_days": float(np.mean(high[mask] - low[mask])) if mask.any() else np.nan,
            "n": int(mask.sum()),
        }

    by_supplier = supplier_groups(rows)
    return {
        "level": INTERVAL_LEVEL,
        **{g: one(m) for g, m in groups.items()},
        "by_supplier_group": {g: one(by_supplier == g) for g in sorted(set(by_supplier))},
    }
