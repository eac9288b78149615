"""Scoring live orders' next inspection: the active quality model, or the supplier baseline.

``LiveQualityModel`` holds the quality model directory's active version (``QualityModel``) and
falls back to the baseline (the supplier's rejection rate with the default beta prior) when
none is active. ``assess_quality`` scores a batch in one call: the schedule features of each
order today (``features_from_state``, the delay model's), the inspection features from the
inspections recorded through today (``inspection_features`` with the next inspection due
tomorrow at the earliest), levels with hysteresis, and drivers and actions in words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from looptrace_predictions.domain import LiveOrder
from looptrace_predictions.features import epoch_days
from looptrace_predictions.quality_drivers import explain_quality
from looptrace_predictions.quality_features import combine, inspection_features, qc_stage_names
from looptrace_predictions.quality_model import (
    DEFAULT_QUALITY_THRESHOLDS,
    BetaPrior,
    QualityModel,
    baseline_p,
)
from looptrace_predictions.risk import Thresholds, next_level
from looptrace_predictions.scoring import ModelHolder
from looptrace_predictions.state import OrderState, features_from_state


class LiveQualityModel(ModelHolder):
    """The active quality model of a directory, or the supplier baseline when none is."""

    KIND = QualityModel
    WHAT = "quality model"

    @property
    def model(self) -> QualityModel | None:
        return self.active.model if self.active else None  # type: ignore[no-any-return]

    @property
    def thresholds(self) -> Thresholds:
        return self.model.thresholds if self.model else DEFAULT_QUALITY_THRESHOLDS

    def estimate(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """(P(rejected), the baseline's P(rejected)) per row."""
        if self.model is None:
            base = baseline_p(frame, BetaPrior())
            return base, base
        with threadpool_limits(limits=1):
            return self.model.estimate(frame), self.model.baseline(frame)


@dataclass(frozen=True)
class QualityAssessment:
    order_id: str
    probability: float
    baseline_probability: float
    level: str
    previous_level: str | None
    inspection_stage: str
    inspection_round: int
    drivers: list[str]
    actions: list[str]
    model_version: str
    baseline: bool

    @property
    def changed(self) -> bool:
        return self.level != self.previous_level


def next_inspection(order: LiveOrder) -> str | None:
    """The first QC stage of the plan not done yet (None: no inspection ahead)."""
    qc = qc_stage_names(order.product_category or "")
    pending = [s for s in order.stages if s.stage_name in qc and s.actual_end is None]
    return pending[0].stage_name if pending else None


def assess_quality(
    model: LiveQualityModel,
    states: Sequence[OrderState],
    orders: Sequence[LiveOrder],
    inspections: pd.DataFrame,
    previous: Sequence[str | None],
    as_of: date,
    margin: float,
) -> list[QualityAssessment]:
    """One assessment per order (each has a next inspection), scored together."""
    if not states:
        return []
    schedule = features_from_state(states, as_of)
    due = epoch_days(pd.Series([as_of + timedelta(days=1)]))[0]
    keys = pd.DataFrame({
        "order_id": [s.order_id for s in states], "supplier_id": [s.supplier_id for s in states],
        "as_of_day": due, "inspection_stage": [next_inspection(o) for o in orders],
    })  # fmt: skip
    has_print = np.array([np.nan if o.has_print is None else float(o.has_print) for o in orders])
    frame = combine(schedule, inspection_features(inspections, keys), keys, has_print)
    p, base = model.estimate(frame)
    rows = frame.to_dict("records")
    return [
        _one(row, float(pi), float(bi), prev, model, margin)
        for row, pi, bi, prev in zip(rows, p, base, previous, strict=True)
    ]


def _one(
    row: dict[str, Any], p: float, base: float, previous: str | None, model: LiveQualityModel,
    margin: float,
) -> QualityAssessment:  # fmt: skip
    drivers, actions = explain_quality(row)
    return QualityAssessment(
        order_id=str(row["order_id"]), probability=round(p, 4),
        baseline_probability=round(base, 4),
        level=next_level(previous, p, margin, model.thresholds), previous_level=previous,
        inspection_stage=str(row["inspection_stage"]),
        inspection_round=int(row["inspection_round"]), drivers=drivers, actions=actions,
        model_version=model.version, baseline=model.model is None,
    )  # fmt: skip
