"""Training: gradient boosting on time-split snapshots, recalibrated on a later holdout.

Three time-ordered parts of the labelled snapshots (by order date):
``fit`` (the earliest), ``calibration`` (the last ``CALIBRATION_SHARE`` of the training
range) and ``validation`` (the last ``VALIDATION_SHARE`` of the whole history, used by
``workflows.train`` for the metrics and the warning thresholds). Nothing later is ever
used to fit anything earlier.

* P(late): ``HistGradientBoostingClassifier`` on all the training range (``fit`` and
  ``calibration``), then an isotonic map from its scores to the late rate, fitted on
  cross-fitted scores: the training range is cut by order date into ``CALIBRATION_FOLDS``
  blocks (an order's snapshots stay in one), each block is scored by a booster fitted on
  the others, and the isotonic map is fitted on all those out-of-block scores — every
  training order calibrates, none with a score from a booster that saw it (the single
  20 % holdout it replaced left the map noisy: ECE 0.033 on another seed, 0.022 with the
  sample loop).
* Delay interval: the completion date is modelled as production's own forecast plus the
  slip still to come: three quantile boosters (P10, P50, P90) of
  ``lateness_days − forecast_lateness_days`` (signed days past target beyond the forecast).
  On ``calibration`` the P10–P90 band is widened (or narrowed) by the conformal
  correction that makes it hold ``INTERVAL_LEVEL`` of the outcomes there (CQR), one
  correction per supplier group (``supplier_groups.py``; Mondrian conformal), so the
  interval holds for unreliable suppliers as well as for reliable ones.
  The delay quantiles are the lateness quantiles clipped at 0; the expected delay an
  alert shows is the P50 (the value with the smallest absolute error).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.isotonic import IsotonicRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from looptrace_predictions.features import CATEGORICAL_FEATURES, FEATURES
from looptrace_predictions.risk import INTERVAL_LEVEL
from looptrace_predictions.risk_model import ALL_SUPPLIERS, ScoringModel
from looptrace_predictions.supplier_groups import supplier_groups

VALIDATION_SHARE = 0.2
CALIBRATION_SHARE = 0.25
MIN_TRAINING_ROWS = 50
RANDOM_STATE = 0
QUANTILES = (0.1, 0.5, 0.9)
QUANTILE_ROUNDS = 120
MIN_GROUP_ROWS = 50
CALIBRATION_FOLDS = 4


def _cutoff(order_dates: pd.Series, share: float) -> pd.Timestamp:
    first, last = order_dates.min(), order_dates.max()
    return first + (last - first) * (1 - share)


def validation_cutoff(order_dates: pd.Series) -> pd.Timestamp:
    """Orders placed on or after this date form the validation set."""
    return _cutoff(order_dates, VALIDATION_SHARE)


def split_by_time(
    snapshots: pd.DataFrame, share: float = VALIDATION_SHARE
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(earlier, later) labelled snapshots; later = orders placed in the last ``share``."""
    labelled = snapshots[snapshots["labelled"]]
    is_later = labelled["order_date"] >= _cutoff(labelled["order_date"], share)
    return labelled[~is_later], labelled[is_later]


def fit_models(training: pd.DataFrame, version: str = "unsaved") -> ScoringModel:
    if len(training) < MIN_TRAINING_ROWS or training["late"].nunique() < 2:
        raise ValueError(
            f"need at least {MIN_TRAINING_ROWS} labelled snapshots with both late and on-time "
            "orders to train; give a longer history"
        )
    ordered = training.sort_values(["order_date", "order_id"], kind="stable")
    fit, holdout = split_by_time(ordered, CALIBRATION_SHARE)
    if fit["late"].nunique() < 2 or holdout.empty:
        raise ValueError("the history's earlier orders need both late and on-time ones to train")
    classifier = _classifier().fit(ordered[FEATURES], ordered["late"].to_numpy(dtype=int))
    slip = _slip(fit)
    quantiles = [_quantile(q).fit(fit[FEATURES], slip) for q in QUANTILES]
    model = ScoringModel(version, classifier, IsotonicRegression(), quantiles, {}, list(FEATURES))
    model.calibrator = _isotonic(cross_fitted_scores(ordered), ordered["late"])
    _conformal(model, holdout)
    return model


def cross_fitted_scores(ordered: pd.DataFrame, folds: int = CALIBRATION_FOLDS) -> np.ndarray:
    """Raw P(late) of every row from a booster fitted on the other time blocks (by order
    date, whole orders; ``ordered`` sorted by order date)."""
    first_seen = ordered.groupby("order_id", sort=False)["order_date"].transform("min")
    rank = first_seen.rank(method="dense").to_numpy()
    block = np.minimum((folds * (rank - 1) / rank.max()).astype(int), folds - 1)
    late = ordered["late"].to_numpy(dtype=int)
    scores = np.full(len(ordered), np.nan)
    for b in range(folds):
        inside = block == b
        if late[~inside].min() == late[~inside].max() or not inside.any():
            raise ValueError("every part of the history needs both late and on-time orders")
        booster = _classifier().fit(ordered.loc[~inside, FEATURES], late[~inside])
        scores[inside] = booster.predict_proba(ordered.loc[inside, FEATURES])[:, 1]
    return scores


def _isotonic(scores: np.ndarray, late: pd.Series) -> IsotonicRegression:
    isotonic = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
    return isotonic.fit(scores, late.to_numpy(dtype=float))


def _slip(rows: pd.DataFrame) -> np.ndarray:
    return (rows["lateness_days"] - rows["forecast_lateness_days"]).to_numpy(dtype=float)


def _conformal(model: ScoringModel, holdout: pd.DataFrame) -> None:
    """The conformal interval correction, on the time-ordered holdout."""
    model.interval_correction = {}
    lateness = model.estimate(holdout).lateness
    actual = holdout["lateness_days"].to_numpy(dtype=float)
    groups = supplier_groups(holdout)
    corrections = {ALL_SUPPLIERS: conformal_correction(lateness[:, 0], lateness[:, 2], actual)}
    for group in set(groups):
        mask = groups == group
        if mask.sum() >= MIN_GROUP_ROWS:
            corrections[str(group)] = conformal_correction(
                lateness[mask, 0], lateness[mask, 2], actual[mask]
            )
    model.interval_correction = corrections


def conformal_correction(
    low: np.ndarray, high: np.ndarray, actual: np.ndarray, level: float = INTERVAL_LEVEL
) -> float:
    """Days to widen [low, high] by so that it holds ``level`` of ``actual`` (CQR)."""
    scores = np.maximum(low - actual, actual - high)
    n = len(scores)
    rank = min(1.0, np.ceil((n + 1) * level) / n)
    return float(np.quantile(scores, rank, method="higher"))


def _preprocess() -> ColumnTransformer:
    encode = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
    return ColumnTransformer([("category", encode, CATEGORICAL_FEATURES)], remainder="passthrough")


_BOOSTING: dict[str, Any] = {
    "learning_rate": 0.1,
    "max_iter": 200,
    "max_leaf_nodes": 15,
    "early_stopping": True,
    "min_samples_leaf": 40,
    "l2_regularization": 1.0,
    "random_state": RANDOM_STATE,
}


def _classifier() -> Pipeline:
    boosted = HistGradientBoostingClassifier(**_BOOSTING)
    return Pipeline([("preprocess", _preprocess()), ("classifier", boosted)])


def _quantile(q: float) -> Pipeline:
    # fewer rounds than the classifier: a quantile booster re-fits every leaf by percentile,
    # the slow part of training, and gains little after ~120 rounds on these features
    settings = _BOOSTING | {"max_iter": QUANTILE_ROUNDS}
    boosted = HistGradientBoostingRegressor(loss="quantile", quantile=q, **settings)
    return Pipeline([("preprocess", _preprocess()), ("regressor", boosted)])
