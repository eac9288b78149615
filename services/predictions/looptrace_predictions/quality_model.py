"""A fitted quality-risk model: P(the order's next inspection is rejected), and its baseline.

``training/quality_fitting.py`` fits one; ``registry.py`` stores and loads it (its own model
directory, beside the delay model's). The baseline is the supplier's historical rejection
rate with a beta prior (``BetaPrior``): ``(rejections + strength × mean) / (lot inspections +
strength)`` — a new supplier gets the prior mean, an old one its own record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from looptrace_predictions.quality_features import QUALITY_FEATURES

if TYPE_CHECKING:
    from sklearn.isotonic import IsotonicRegression
    from sklearn.pipeline import Pipeline

DEFAULT_QUALITY_THRESHOLDS = {"medium": 0.25, "high": 0.45}


@dataclass(frozen=True)
class BetaPrior:
    mean: float = 0.2
    strength: float = 10.0

    def rate(self, rejections: np.ndarray, inspections: np.ndarray) -> np.ndarray:
        rate: np.ndarray = (np.asarray(rejections, dtype=float) + self.strength * self.mean) / (
            np.asarray(inspections, dtype=float) + self.strength
        )
        return rate

    def as_dict(self) -> dict[str, float]:
        return {"mean": self.mean, "strength": self.strength}


def baseline_p(features: pd.DataFrame, prior: BetaPrior) -> np.ndarray:
    """The baseline's P(rejected): the supplier's smoothed historical rejection rate."""
    return prior.rate(features["supplier_rejections"], features["supplier_lot_inspections"])


@dataclass
class QualityModel:
    """The fitted parts of one quality-risk model version."""

    STORED: ClassVar[tuple[str, ...]] = ("classifier", "calibrator", "features", "thresholds",
                                         "prior")  # fmt: skip
    version: str
    classifier: Pipeline
    calibrator: IsotonicRegression
    features: list[str] = field(default_factory=lambda: list(QUALITY_FEATURES))
    thresholds: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_QUALITY_THRESHOLDS))
    prior: dict[str, float] = field(default_factory=lambda: BetaPrior().as_dict())

    def estimate(self, features: pd.DataFrame) -> np.ndarray:
        """P(rejected) for every row; one call per batch."""
        missing = [name for name in self.features if name not in features.columns]
        if missing:
            raise ValueError(f"feature frame lacks column(s): {', '.join(missing)}")
        raw = self.classifier.predict_proba(features[self.features])[:, 1]
        p: np.ndarray = np.clip(self.calibrator.predict(raw), 0.0, 1.0)
        return p

    def baseline(self, features: pd.DataFrame) -> np.ndarray:
        return baseline_p(features, BetaPrior(**self.prior))

    def describe(self) -> dict[str, Any]:
        return {"version": self.version, "thresholds": self.thresholds, "prior": self.prior}
