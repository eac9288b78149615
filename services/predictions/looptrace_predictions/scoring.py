"""Scoring a batch of live orders in one call: the active model, or the baseline rule.

``LiveModel`` holds the model the worker scores with; it starts on the baseline when
no version is active and picks up a newly promoted version on ``reload()``.
``assess`` turns a list of ``OrderState`` into one ``Assessment`` per order with one
``features_from_state`` and one ``predict`` call, levels with hysteresis, and the
drivers and actions of each order.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from looptrace_predictions.baseline import baseline_predict
from looptrace_predictions.drivers import explain
from looptrace_predictions.features import FEATURES
from looptrace_predictions.registry import ActiveModel, ModelNotFound, active_version
from looptrace_predictions.risk import DEFAULT_THRESHOLDS, Thresholds, next_level
from looptrace_predictions.risk_model import ScoringModel
from looptrace_predictions.state import OrderState, features_from_state

log = logging.getLogger(__name__)

BASELINE_VERSION = "baseline"


class ModelHolder:
    """The promoted version of a model directory, swapped when another is promoted; None
    (``is_baseline``) while none is. Subclasses say how they score with it."""

    KIND: type = ScoringModel  # the class its versions are stored as (``registry.STORED``)
    WHAT = "model"  # how the log names it

    def __init__(self, model_dir: str | Path) -> None:
        self.model_dir = Path(model_dir)
        self.active: ActiveModel | None = None
        self.reload()

    @property
    def version(self) -> str:
        return self.active.version if self.active else BASELINE_VERSION

    @property
    def is_baseline(self) -> bool:
        return self.active is None

    def reload(self) -> bool:
        """Swap in the promoted version, if it changed; True when it did."""
        try:
            if self.active is None:
                if active_version(self.model_dir) is None:
                    return False
                self.active = ActiveModel(self.model_dir, self.KIND)
            elif not self.active.reload_if_changed():
                return False
        except ModelNotFound as error:  # e.g. a version saved in an older format
            log.error("keeping %s %s: %s", self.WHAT, self.version, error)
            return False
        log.info("scoring with %s %s from %s", self.WHAT, self.version, self.model_dir)
        return True


class LiveModel(ModelHolder):
    """The active delay model of a model directory, or the baseline rule when none is active."""

    @property
    def thresholds(self) -> Thresholds:
        return self.active.model.thresholds if self.active else DEFAULT_THRESHOLDS

    def estimate(self, features: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """(P(late), lateness P10/P50/P90) per row, on one BLAS/OpenMP thread.

        The baseline rule gives a point delay and no interval: its three columns are
        that point (``assess`` shows no interval for the baseline)."""
        if self.active is None:
            p_late, delay = baseline_predict(features)
            return p_late, np.repeat(delay[:, None], 3, axis=1)
        with threadpool_limits(limits=1):
            estimate = self.active.model.estimate(features)
        return estimate.p_late, estimate.lateness

    def predict(self, features: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """(P(late), expected delay days) for every row."""
        p_late, lateness = self.estimate(features)
        return p_late, np.maximum(lateness[:, 1], 0.0)


@dataclass(frozen=True)
class Assessment:
    order_id: str
    p_late: float
    level: str
    previous_level: str | None
    expected_delay_days: float
    lateness_p10_days: float | None  # signed days past the target; None without an interval
    lateness_p90_days: float | None
    drivers: list[str]
    actions: list[str]
    model_version: str
    baseline: bool
    features: dict[str, Any]

    @property
    def changed(self) -> bool:
        return self.level != self.previous_level

    @property
    def delay_interval(self) -> tuple[float, float] | None:
        """(P10, P90) of the delay in days, or None (the baseline gives no interval)."""
        if self.lateness_p10_days is None or self.lateness_p90_days is None:
            return None
        return max(0.0, self.lateness_p10_days), max(0.0, self.lateness_p90_days)


def assess(
    model: LiveModel,
    states: Sequence[OrderState],
    previous: Sequence[str | None],
    as_of: date,
    margin: float,
) -> list[Assessment]:
    """One assessment per order state, scored together (``previous``: levels announced before)."""
    if not states:
        return []
    frame = features_from_state(states, as_of)
    p_late, lateness = model.estimate(frame)
    rows = frame.to_dict("records")
    how = _Scoring(model.version, model.is_baseline, margin, model.thresholds)
    return [
        _one(row, float(p), q, prev, how)
        for row, p, q, prev in zip(rows, np.asarray(p_late), lateness, previous, strict=True)
    ]


@dataclass(frozen=True)
class _Scoring:
    version: str
    baseline: bool
    margin: float
    thresholds: Thresholds


def _one(
    row: dict[str, Any], p: float, q: np.ndarray, previous: str | None, how: _Scoring
) -> Assessment:
    drivers, actions = explain(row)
    interval = not how.baseline
    return Assessment(
        order_id=str(row["order_id"]),
        p_late=round(p, 4),
        level=next_level(previous, p, how.margin, how.thresholds),
        previous_level=previous,
        expected_delay_days=round(max(0.0, float(q[1])), 1),
        lateness_p10_days=round(float(q[0]), 1) if interval else None,
        lateness_p90_days=round(float(q[2]), 1) if interval else None,
        drivers=drivers,
        actions=actions,
        model_version=how.version,
        baseline=how.baseline,
        features={name: _plain(row[name]) for name in FEATURES},
    )


def _plain(value: Any) -> Any:
    """A JSON-ready value: numpy scalars as Python ones, NaN (unknown) as None."""
    value = value.item() if isinstance(value, np.generic) else value
    return None if isinstance(value, float) and value != value else value
