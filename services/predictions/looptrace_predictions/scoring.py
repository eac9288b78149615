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

import numpy as np
from threadpoolctl import threadpool_limits

from .baseline import baseline_predict
from .drivers import explain
from .registry import ActiveModel, active_version
from .risk import next_level
from .state import OrderState, features_from_state

log = logging.getLogger(__name__)

BASELINE_VERSION = "baseline"


class LiveModel:
    """The active model of a model directory, or the baseline rule when none is active."""

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
        if self.active is None:
            if active_version(self.model_dir) is None:
                return False
            self.active = ActiveModel(self.model_dir)
        elif not self.active.reload_if_changed():
            return False
        log.info("scoring with model %s from %s", self.version, self.model_dir)
        return True

    def predict(self, features):  # type: ignore[no-untyped-def]
        """(P(late), expected delay days) for every row, on one BLAS/OpenMP thread."""
        if self.active is None:
            return baseline_predict(features)
        with threadpool_limits(limits=1):
            return self.active.model.predict(features)


@dataclass(frozen=True)
class Assessment:
    order_id: str
    p_late: float
    level: str
    previous_level: str | None
    expected_delay_days: float
    drivers: list[str]
    actions: list[str]
    model_version: str
    baseline: bool

    @property
    def changed(self) -> bool:
        return self.level != self.previous_level


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
    p_late, delay = model.predict(frame)
    rows = frame.to_dict("records")
    version, baseline = model.version, model.is_baseline
    return [
        _one(row, float(p), float(d), prev, margin, version, baseline)
        for row, p, d, prev in zip(
            rows, np.asarray(p_late), np.asarray(delay), previous, strict=True
        )
    ]


def _one(row, p, delay, previous, margin, version, baseline) -> Assessment:  # type: ignore[no-untyped-def]
    drivers, actions = explain(row)
    return Assessment(
        order_id=str(row["order_id"]),
        p_late=round(p, 4),
        level=next_level(previous, p, margin),
        previous_level=previous,
        expected_delay_days=round(delay, 1),
        drivers=drivers,
        actions=actions,
        model_version=version,
        baseline=baseline,
    )
