"""Training: one scikit-learn Pipeline per target on time-split snapshots.

* P(late): one-hot of the category, then ``CalibratedClassifierCV`` (isotonic,
  calibrator fitted on predictions of 3 contiguous folds, ``ensemble=False`` so
  scoring runs one booster) around ``HistGradientBoostingClassifier``;
* expected delay days: one-hot, then ``HistGradientBoostingRegressor`` with a
  Poisson loss (non-negative, mostly-zero counts; predicts the mean).

Validation is by time: orders placed in the last ``VALIDATION_SHARE`` of the
history's date range. The saved model is the one fitted on the earlier orders,
so the metrics stored with it describe exactly that model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.model_selection import KFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from .features import CATEGORICAL_FEATURES, FEATURES

VALIDATION_SHARE = 0.2
MIN_TRAINING_ROWS = 50
RANDOM_STATE = 0


@dataclass
class ScoringModel:
    """The two fitted pipelines of one model version."""

    version: str
    classifier: Pipeline
    regressor: Pipeline
    features: list[str]

    def predict(self, features: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """(P(late), expected delay days) for every row; one call per batch."""
        missing = [name for name in self.features if name not in features.columns]
        if missing:
            raise ValueError(f"feature frame lacks column(s): {', '.join(missing)}")
        rows = features[self.features]
        p_late = self.classifier.predict_proba(rows)[:, 1]
        delay = np.maximum(self.regressor.predict(rows), 0.0)
        return p_late, delay


def validation_cutoff(order_dates: pd.Series) -> pd.Timestamp:
    """Orders placed on or after this date form the validation set."""
    first, last = order_dates.min(), order_dates.max()
    return first + (last - first) * (1 - VALIDATION_SHARE)


def split_by_time(snapshots: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    labelled = snapshots[snapshots["labelled"]]
    cutoff = validation_cutoff(labelled["order_date"])
    is_validation = labelled["order_date"] >= cutoff
    return labelled[~is_validation], labelled[is_validation]


def fit_models(training: pd.DataFrame, version: str = "unsaved") -> ScoringModel:
    if len(training) < MIN_TRAINING_ROWS or training["late"].nunique() < 2:
        raise ValueError(
            f"need at least {MIN_TRAINING_ROWS} labelled snapshots with both late and on-time "
            "orders to train; give a longer history"
        )
    ordered = training.sort_values(["order_date", "order_id"], kind="stable")
    x = ordered[FEATURES]
    classifier = _classifier().fit(x, ordered["late"].to_numpy(dtype=int))
    regressor = _regressor().fit(x, ordered["delay_days"].to_numpy(dtype=float))
    return ScoringModel(version, classifier, regressor, list(FEATURES))


def _preprocess() -> ColumnTransformer:
    encode = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
    return ColumnTransformer([("category", encode, CATEGORICAL_FEATURES)], remainder="passthrough")


# the classifier's and the regressor's gradient boosting, tuned together
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
    calibrated = CalibratedClassifierCV(
        boosted, method="isotonic", cv=KFold(3), ensemble=False, n_jobs=1
    )
    return Pipeline([("preprocess", _preprocess()), ("classifier", calibrated)])


def _regressor() -> Pipeline:
    boosted = HistGradientBoostingRegressor(loss="poisson", **_BOOSTING)
    return Pipeline([("preprocess", _preprocess()), ("regressor", boosted)])
