import numpy as np
import pytest

from looptrace_predictions.risk import next_level, risk_level, risk_levels


@pytest.mark.parametrize(
    ("p", "level"), [(0.0, "low"), (0.29, "low"), (0.3, "medium"), (0.59, "medium"), (0.6, "high")]
)
def test_levels_from_probability(p: float, level: str) -> None:
    assert risk_level(p) == level
    assert risk_levels(np.array([p]))[0] == level


def test_probability_wobbling_around_a_threshold_does_not_flap() -> None:
    level = next_level(None, 0.31)
    seen = [level]
    for p in [0.28, 0.33, 0.27, 0.32, 0.26, 0.34, 0.29]:
        level = next_level(level, p)
        seen.append(level)
    assert set(seen) == {"medium"}


def test_one_change_per_real_crossing() -> None:
    path = [0.1, 0.2, 0.32, 0.36, 0.4, 0.33, 0.28, 0.24, 0.2, 0.26, 0.31]
    levels = [next_level(None, path[0])]
    for p in path[1:]:
        levels.append(next_level(levels[-1], p))
    changes = [(a, b) for a, b in zip(levels, levels[1:], strict=False) if a != b]
    assert changes == [("low", "medium"), ("medium", "low")]
    assert levels[3] == "medium" and levels[8] == "low"


def test_a_jump_skips_levels_in_one_step() -> None:
    assert next_level("low", 0.9) == "high"
    assert next_level("high", 0.05) == "low"
    assert next_level("high", 0.57) == "high"
    assert next_level("high", 0.54) == "medium"


def test_unknown_previous_level_is_rejected() -> None:
    with pytest.raises(ValueError, match="expected one of"):
        next_level("severe", 0.5)
