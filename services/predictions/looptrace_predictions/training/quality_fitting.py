"""Quality risk: fit on time-split inspection snapshots, measure against the supplier baseline.

The same recipe as the delay model's P(late) (``fitting.py``): the snapshots of orders placed
in the last ``VALIDATION_SHARE`` of the history are the validation set; of the rest, the
earliest part fits a ``HistGradientBoostingClassifier`` and the last ``CALIBRATION_SHARE``
fits the isotonic map from its scores to the rejection rate. Nothing later fits anything
earlier.

* Baseline — the supplier's historical rejection rate with a beta prior (beta-binomial
  smoothing, ``BetaPrior``): its mean is the rejection rate of the fitting part, its
  strength the one (of ``PRIOR_STRENGTHS``) with the best log-likelihood there.
* Levels — ``medium`` from the ``MEDIUM_QUANTILE`` of the validation predictions at the
  start of a QC stage, ``high`` from the ``HIGH_QUANTILE``: about a third of the lots are
  flagged medium or high, a tenth high.
* Metrics — ROC AUC, Brier score and ECE of model and baseline, at the start of a QC stage
  (round 1, ``qc_start``; the headline), over every round, and at QC start per final /
  earlier QC stage.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import brier_score_loss, roc_auc_score

from looptrace_predictions.quality_features import QUALITY_FEATURES
from looptrace_predictions.quality_model import BetaPrior, QualityModel, baseline_p
from looptrace_predictions.training.fitting import (
    CALIBRATION_SHARE,
    MIN_TRAINING_ROWS,
    _classifier,
    split_by_time,
)
from looptrace_predictions.training.metrics import expected_calibration_error

PRIOR_STRENGTHS = (1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0)
MEDIUM_QUANTILE = 0.7
HIGH_QUANTILE = 0.9


def fit_prior(rows: pd.DataFrame) -> BetaPrior:
    """The beta prior of the baseline, from the rows' rejection rate and their likelihood."""
    y = rows["rejected"].to_numpy(dtype=float)
    mean = float(np.clip(y.mean(), 0.01, 0.99))

    def loglik(strength: float) -> float:
        p = np.clip(baseline_p(rows, BetaPrior(mean, strength)), 1e-6, 1 - 1e-6)
        return float(np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)))

    return BetaPrior(mean, max(PRIOR_STRENGTHS, key=loglik))


def fit_quality(training: pd.DataFrame, version: str = "unsaved") -> QualityModel:
    if len(training) < MIN_TRAINING_ROWS or training["rejected"].nunique() < 2:
        raise ValueError(
            f"need at least {MIN_TRAINING_ROWS} lot inspections, accepted and rejected ones, "
            "to train the quality model; give a longer history with its inspections"
        )
    ordered = training.sort_values(["order_date", "order_id"], kind="stable")
    fit, holdout = split_by_time(ordered, CALIBRATION_SHARE)
    if fit["rejected"].nunique() < 2 or holdout.empty:
        raise ValueError("the history's earlier inspections need both accepted and rejected lots")
    classifier = _classifier().fit(fit[QUALITY_FEATURES], fit["rejected"].to_numpy(dtype=int))
    raw = classifier.predict_proba(holdout[QUALITY_FEATURES])[:, 1]
    calibrator = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(
        raw, holdout["rejected"].to_numpy(dtype=float)
    )
    prior = fit_prior(fit)
    return QualityModel(version, classifier, calibrator, prior=prior.as_dict())


def choose_quality_thresholds(p_at_qc_start: np.ndarray) -> dict[str, float]:
    medium = float(np.quantile(p_at_qc_start, MEDIUM_QUANTILE))
    high = max(medium, float(np.quantile(p_at_qc_start, HIGH_QUANTILE)))
    return {"medium": round(medium, 6), "high": round(high, 6)}


def quality_metrics(model: QualityModel, snapshots: pd.DataFrame) -> dict[str, dict]:
    """Model vs baseline per group of snapshots (see the module's doc)."""
    if snapshots.empty:
        raise ValueError("no lot inspections to evaluate on")
    p, base = model.estimate(snapshots), model.baseline(snapshots)
    y = snapshots["rejected"].to_numpy(dtype=int)
    start = snapshots["qc_start"].to_numpy(dtype=bool)
    final = snapshots["inspection_final"].to_numpy() == 1
    groups = {"qc_start": start, "all_rounds": np.ones(len(y), dtype=bool),
              "qc_start_final": start & final, "qc_start_earlier": start & ~final}  # fmt: skip
    return {
        group: {"model": _scores(y[m], p[m]), "baseline": _scores(y[m], base[m])}
        for group, m in groups.items()
    }


def _scores(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    both = 0 < y.sum() < len(y)
    return {
        "roc_auc": float(roc_auc_score(y, p)) if both else float("nan"),
        "brier": float(brier_score_loss(y, p)) if len(y) else float("nan"),
        "ece": expected_calibration_error(y, p),
        "rejected_share": float(y.mean()) if len(y) else float("nan"),
        "n": int(len(y)),
    }
