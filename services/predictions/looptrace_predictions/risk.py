"""Delay risk levels from P(late), with hysteresis so alerts do not flap.

low: p < 0.3; medium: 0.3 <= p < 0.6; high: p >= 0.6.
"""

from __future__ import annotations

import numpy as np

MEDIUM_RISK_FROM = 0.3
HIGH_RISK_FROM = 0.6
RISK_LEVELS = ("low", "medium", "high")
HYSTERESIS_MARGIN = 0.05
_BOUNDARIES = (MEDIUM_RISK_FROM, HIGH_RISK_FROM)


def risk_level(p_late: float) -> str:
    return RISK_LEVELS[sum(p_late >= b for b in _BOUNDARIES)]


def risk_levels(p_late: np.ndarray) -> np.ndarray:
    """Vectorised ``risk_level``."""
    index = np.searchsorted(np.array(_BOUNDARIES), np.asarray(p_late), side="right")
    return np.array(RISK_LEVELS, dtype=object)[index]


def next_level(previous_level: str | None, p: float, margin: float = HYSTERESIS_MARGIN) -> str:
    """The level after a new probability ``p``, given the level announced before.

    The level goes up only when ``p`` is more than ``margin`` above the
    boundary it crosses, and down only when it is more than ``margin`` below,
    so a probability wobbling around 0.3 keeps its level. Without a previous
    level this is plain ``risk_level(p)``.
    """
    if previous_level is None:
        return risk_level(p)
    if previous_level not in RISK_LEVELS:
        raise ValueError(f"unknown risk level {previous_level!r}; expected one of {RISK_LEVELS}")
    current = RISK_LEVELS.index(previous_level)
    up = sum(p > b + margin for b in _BOUNDARIES)
    down = sum(p >= b - margin for b in _BOUNDARIES)
    if up > current:
        return RISK_LEVELS[up]
    if down < current:
        return RISK_LEVELS[down]
    return previous_level
