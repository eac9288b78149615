"""A fitted delay-risk model as the worker scores with it: P(late) and the lateness interval.

``training/fitting.py`` fits one; ``registry.py`` stores and loads it. scikit-learn is imported
only by the pickled parts themselves (start-up time of a worker without a model).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import pandas as pd

from looptrace_predictions.risk import DEFAULT_THRESHOLDS
from looptrace_predictions.supplier_groups import supplier_groups

if TYPE_CHECKING:
    from sklearn.isotonic import IsotonicRegression
    from sklearn.pipeline import Pipeline

ALL_SUPPLIERS = "all"


@dataclass
class RiskEstimate:
    """Scores of a batch: P(late) and P10/P50/P90 of the signed days past the target."""

    p_late: np.ndarray
    lateness: np.ndarray  # shape (n, 3): P10, P50, P90

    @property
    def delay(self) -> np.ndarray:
        """P10/P50/P90 of the delay in days (lateness clipped at 0)."""
        delay: np.ndarray = np.maximum(self.lateness, 0.0)
        return delay


@dataclass
class ScoringModel:
    """The fitted parts of one model version."""

    STORED: ClassVar[tuple[str, ...]] = (
        "classifier", "calibrator", "quantiles", "interval_correction", "features", "thresholds",
    )  # fmt: skip
    version: str
    classifier: Pipeline
    calibrator: IsotonicRegression
    quantiles: list[Pipeline]
    interval_correction: dict[str, float]
    features: list[str]
    thresholds: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))

    def estimate(self, features: pd.DataFrame) -> RiskEstimate:
        """P(late) and the lateness quantiles for every row; one call per batch."""
        missing = [name for name in self.features if name not in features.columns]
        if missing:
            raise ValueError(f"feature frame lacks column(s): {', '.join(missing)}")
        rows = features[self.features]
        raw = self.classifier.predict_proba(rows)[:, 1]
        p_late = np.clip(self.calibrator.predict(raw), 0.0, 1.0)
        anchor = features["forecast_lateness_days"].to_numpy(dtype=float)
        slip = np.column_stack([q.predict(rows) for q in self.quantiles])
        slip.sort(axis=1)  # quantile boosters fitted apart may cross; keep P10 ≤ P50 ≤ P90
        correction = self._correction(features)
        slip[:, 0] -= correction
        slip[:, 2] += correction
        lateness = anchor[:, None] + slip
        lateness[:, 0] = np.minimum(lateness[:, 0], lateness[:, 1])
        lateness[:, 2] = np.maximum(lateness[:, 2], lateness[:, 1])
        return RiskEstimate(p_late, lateness)

    def _correction(self, features: pd.DataFrame) -> np.ndarray:
        overall = self.interval_correction.get(ALL_SUPPLIERS, 0.0)
        groups = supplier_groups(features)
        return np.array([self.interval_correction.get(g, overall) for g in groups], dtype=float)

    def predict(self, features: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """(P(late), expected delay days = P50) for every row."""
        estimate = self.estimate(features)
        return estimate.p_late, estimate.delay[:, 1]
