"""Inline (in-process) checks: defects found at a production stage, measured as DHU.

An inline check is no lot decision: an inspector walks the line at a stage (e.g. Sewing &
Assembly), checks some units and counts the defects. Its figure is DHU, defects per hundred
units; the trend of DHU by week shows whether a supplier's line is getting better or worse.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from looptrace_quality.catalogue import DefectCatalogue, DefectClass
from looptrace_quality.domain import (
    DefectFinding,
    defects_per_hundred_units,
    record_finding,
    whole_number,
)


class StageNameMissing(ValueError):
    def __init__(self) -> None:
        super().__init__("an inline check needs the stage it was made at, e.g. 'Sewing & Assembly'")


@dataclass(frozen=True)
class InlineCheck:
    stage: str
    units_checked: int
    findings: tuple[DefectFinding, ...]
    dhu: Decimal

    @property
    def defects_found(self) -> int:
        return sum(f.quantity for f in self.findings)

    def defects_by_class(self) -> dict[str, int]:
        counts = dict.fromkeys((c.value for c in DefectClass), 0)
        for finding in self.findings:
            counts[finding.defect_class.value] += finding.quantity
        return counts


def check_inline(
    stage: str,
    units_checked: int,
    defects: list[tuple[str, int, str | None]],
    catalogue: DefectCatalogue | None = None,
) -> InlineCheck:
    """An inline check of ``units_checked`` units: defects as (type code, count, class or None)."""
    if not stage or not stage.strip():
        raise StageNameMissing()
    findings = tuple(record_finding(code, n, cls, catalogue) for code, n, cls in defects)
    found = sum(f.quantity for f in findings)
    return InlineCheck(stage.strip(), units_checked, findings, dhu_of(found, units_checked))


def dhu_of(defects_found: int, units_checked: int) -> Decimal:
    return defects_per_hundred_units(defects_found, whole_number("units_checked", units_checked))


@dataclass(frozen=True)
class WeeklyDhu:
    """DHU of one week's inline checks: all defects over all units checked that week."""

    week: date  # the Monday
    checks: int
    units_checked: int
    defects_found: int

    @property
    def dhu(self) -> Decimal:
        return dhu_of(self.defects_found, self.units_checked)
