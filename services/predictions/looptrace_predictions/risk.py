"""Delay risk levels from P(late), with hysteresis so alerts do not flap.

Default boundaries (the baseline rule, or a model saved without its own):
low: p < 0.3; medium: 0.3 <= p < 0.6; high: p >= 0.6. A trained model carries the
boundaries chosen on its validation split (``warnings.choose_thresholds``) and the
worker uses those.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

MEDIUM_RISK_FROM = 0.3
HIGH_RISK_FROM = 0.6
RISK_LEVELS = ("low", "medium", "high")
HYSTERESIS_MARGIN = 0.05
INTERVAL_LEVEL = 0.8  # a trained model's delay interval runs from P10 to P90
DEFAULT_THRESHOLDS: Mapping[str, float] = {"medium": MEDIUM_RISK_FROM, "high": HIGH_RISK_FROM}

Thresholds = Mapping[str, float]


def _boundaries(thresholds: Thresholds | None) -> tuple[float, float]:
    chosen = DEFAULT_THRESHOLDS if thresholds is None else thresholds
    medium, high = float(chosen["medium"]), float(chosen["high"])
    if not 0.0 <= medium <= high <= 1.0:
        raise ValueError(f"risk thresholds must satisfy 0 <= medium <= high <= 1, got {chosen}")
    return medium, high


def risk_level(p_late: float, thresholds: Thresholds | None = None) -> str:
    return RISK_LEVELS[sum(p_late >= b for b in _boundaries(thresholds))]


def risk_levels(p_late: np.ndarray, thresholds: Thresholds | None = None) -> np.ndarray:
    """Vectorised ``risk_level``."""
    bounds = np.array(_boundaries(thresholds))
    index = np.searchsorted(bounds, np.asarray(p_late), side="right")
    return np.array(RISK_LEVELS, dtype=object)[index]


def next_level(
    previous_level: str | None,
    p: float,
    margin: float = HYSTERESIS_MARGIN,
    thresholds: Thresholds | None = None,
) -> str:
    """The level after a new probability ``p``, given the level announced before.

    The level goes up only when ``p`` is more than ``margin`` above the
    boundary it crosses, and down only when it is more than ``margin`` below,
    so a probability wobbling around 0.3 keeps its level. Without a previous
    level this is plain ``risk_level(p)``.
    """
    if previous_level is None:
        return risk_level(p, thresholds)
    if previous_level not in RISK_LEVELS:
        raise ValueError(f"unknown risk level {previous_level!r}; expected one of {RISK_LEVELS}")
    bounds = _boundaries(thresholds)
    current = RISK_LEVELS.index(previous_level)
    up = sum(p > b + margin for b in bounds)
    down = sum(p >= b - margin for b in bounds)
    if up > current:
        return RISK_LEVELS[up]
    if down < current:
        return RISK_LEVELS[down]
    return previous_level
