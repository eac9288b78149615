"""Inline checks: DHU from catalogued defects, and weekly DHU."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from looptrace_quality.catalogue import DefectClass, UnknownDefectType
from looptrace_quality.dhu import StageNameMissing, WeeklyDhu, check_inline
from looptrace_quality.domain import InvalidQuantity, NoUnitsInspected


def test_dhu_counts_every_defect_over_the_units_checked() -> None:
    check = check_inline(
        " Sewing & Assembly ", 40, [("BROKEN_STITCH", 3, None), ("PUCKERING", 2, "major")]
    )
    assert (check.stage, check.defects_found, check.dhu) == (
        "Sewing & Assembly",
        5,
        Decimal("12.50"),
    )
    assert check.defects_by_class() == {"critical": 0, "major": 5, "minor": 0}
    assert check.findings[0].defect_class is DefectClass.MAJOR


def test_zero_units_cannot_give_a_dhu() -> None:
    with pytest.raises(NoUnitsInspected, match="DHU needs at least 1 inspected unit"):
        check_inline("Cutting", 0, [])


@pytest.mark.parametrize("units", [-1, 2.5, True])
def test_units_must_be_a_whole_number(units: object) -> None:
    with pytest.raises(InvalidQuantity, match="units_checked must be a whole number"):
        check_inline("Cutting", units, [])  # type: ignore[arg-type]


def test_unknown_defect_type_lists_the_catalogue() -> None:
    with pytest.raises(UnknownDefectType, match="use one of: .*BROKEN_STITCH"):
        check_inline("Cutting", 10, [("TORN_LABEL", 1, None)])


def test_the_stage_is_required() -> None:
    with pytest.raises(StageNameMissing, match="Sewing & Assembly"):
        check_inline("  ", 10, [])


def test_weekly_dhu_pools_the_weeks_checks() -> None:
    assert WeeklyDhu(date(2031, 3, 3), 2, 100, 6).dhu == Decimal("6.00")
