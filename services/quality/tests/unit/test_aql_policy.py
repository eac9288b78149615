"""AQL choices per layer: validated against ISO 2859-1, resolved order > buyer > settings."""

from __future__ import annotations

import pytest

from looptrace_quality.aql import UnknownAQL, UnknownInspectionLevel
from looptrace_quality.aql_policy import AqlChoice, resolve_aqls

SETTINGS = AqlChoice(critical="0", major="2.5", minor="4.0", level="II")


def test_values_are_normalized_to_the_standards_labels() -> None:
    choice = AqlChoice.validated(critical=0, major=1.50, minor="6.5", level="ii")
    assert choice.to_dict() == {"critical": "0", "major": "1.5", "minor": "6.5", "level": "II"}


def test_unknown_aql_and_level_name_the_valid_values() -> None:
    with pytest.raises(UnknownAQL, match=r"AQL '3' is not in the ISO 2859-1 series.*2\.5, 4\.0"):
        AqlChoice.validated(major="3")
    with pytest.raises(UnknownInspectionLevel, match="use one of: S-1, S-2, S-3, S-4, I, II, III"):
        AqlChoice.validated(level="IV")


def test_the_most_specific_layer_wins_per_value() -> None:
    buyer = AqlChoice(major="1.0", minor="6.5")
    order = AqlChoice(major="1.5")
    resolved = resolve_aqls(SETTINGS, buyer, order)
    assert (resolved.aqls, resolved.level) == (
        {"critical": "0", "major": "1.5", "minor": "6.5"}, "II")  # fmt: skip
    assert resolved.sources == {
        "critical": "settings", "major": "order", "minor": "buyer", "level": "settings"}  # fmt: skip


def test_without_overrides_everything_comes_from_settings() -> None:
    resolved = resolve_aqls(SETTINGS, None, AqlChoice())
    assert set(resolved.sources.values()) == {"settings"}
    assert AqlChoice().is_empty() and not AqlChoice(level="I").is_empty()


def test_from_dict_ignores_unknown_keys() -> None:
    assert AqlChoice.from_dict({"major": "1.0", "extra": "x"}) == AqlChoice(major="1.0")
