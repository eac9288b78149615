"""AQL sampling plans: ISO 2859-1 / ANSI Z1.4 single sampling for attributes.

``sampling_plan(lot_size, aql, level, severity)`` finds the code letter of the
lot (Table I), then the plan in the master table of the inspection severity
(Tables II-A, II-B, II-C), following the arrows: an arrow replaces the code
letter and its sample size with those of the row where the plan is found.
When that sample size reaches the lot size, every unit is inspected.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from looptrace_quality.aql_tables import (
    AQL_SERIES,
    INSPECTION_LEVELS,
    REDUCED_SAMPLE_SIZES,
    SAMPLE_SIZES,
    TABLE_I,
    TABLE_II_A,
    TABLE_II_B,
    TABLE_II_C,
)

AqlValue = float | int | str | Decimal

ARROW_DOWN = "v"
ARROW_UP = "^"


class Severity(StrEnum):
    """Inspection severity of ISO 2859-1 clause 9 (the switching rules move between them)."""

    NORMAL = "normal"
    TIGHTENED = "tightened"
    REDUCED = "reduced"


class SamplingError(ValueError):
    """A sampling plan was asked for with values the standard does not define."""


class UnknownAQL(SamplingError):
    def __init__(self, aql: object) -> None:
        super().__init__(
            f"AQL {aql!r} is not in the ISO 2859-1 series; use one of: {', '.join(AQL_SERIES)}"
        )


class LotTooSmall(SamplingError):
    def __init__(self, lot_size: object) -> None:
        super().__init__(
            f"lot size {lot_size!r} is not valid; a lot must be a whole number of at least 2 units"
        )


class UnknownInspectionLevel(SamplingError):
    def __init__(self, level: object) -> None:
        super().__init__(
            f"inspection level {level!r} is unknown; use one of: {', '.join(INSPECTION_LEVELS)}"
        )


class UnknownSeverity(SamplingError):
    def __init__(self, severity: object) -> None:
        allowed = ", ".join(s.value for s in Severity)
        super().__init__(f"inspection severity {severity!r} is unknown; use one of: {allowed}")


@dataclass(frozen=True)
class SamplingPlan:
    """One single-sampling plan, as resolved for a lot (the inspection's snapshot)."""

    lot_size: int
    aql: str
    level: str
    severity: Severity
    original_code_letter: str
    code_letter: str
    sample_size: int
    accept: int
    reject: int
    full_inspection: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "original_code_letter": self.original_code_letter,
            "code_letter": self.code_letter,
            "sample_size": self.sample_size,
            "accept": self.accept,
            "reject": self.reject,
            "full_inspection": self.full_inspection,
        }


def sampling_plan(
    lot_size: int,
    aql: AqlValue,
    level: str = "II",
    severity: str = "normal",
) -> SamplingPlan:
    """The single-sampling plan for a lot at an AQL, inspection level and severity."""
    aql_label = parse_aql(aql)
    level_name = parse_level(level)
    severity_name = parse_severity(severity)
    original = code_letter(lot_size, level_name)
    letter, accept, reject = resolve_arrows(severity_name, original, aql_label)
    sample_size = sample_size_for(severity_name, letter)
    return SamplingPlan(
        lot_size=lot_size,
        aql=aql_label,
        level=level_name,
        severity=severity_name,
        original_code_letter=original,
        code_letter=letter,
        sample_size=min(sample_size, lot_size),
        accept=accept,
        reject=reject,
        full_inspection=sample_size >= lot_size,
    )


def parse_aql(aql: AqlValue) -> str:
    """The standard's label for an AQL given as 2.5, "2.5", "2.50" or Decimal("2.5")."""
    value = _as_decimal(aql)
    for label in AQL_SERIES:
        if value is not None and Decimal(label) == value:
            return label
    raise UnknownAQL(aql)


def parse_level(level: str) -> str:
    name = level.strip().upper() if isinstance(level, str) else ""
    if name in INSPECTION_LEVELS:
        return name
    raise UnknownInspectionLevel(level)


def parse_severity(severity: str) -> Severity:
    try:
        return Severity(severity.strip().lower())
    except (AttributeError, ValueError):
        raise UnknownSeverity(severity) from None


def code_letter(lot_size: int, level: str = "II") -> str:
    """Table I: the sample size code letter of a lot at an inspection level."""
    if isinstance(lot_size, bool) or not isinstance(lot_size, int) or lot_size < 2:
        raise LotTooSmall(lot_size)
    column = INSPECTION_LEVELS.index(parse_level(level))
    for lowest, highest, letters in TABLE_I:
        if lot_size >= lowest and (highest is None or lot_size <= highest):
            return letters.split()[column]
    raise LotTooSmall(lot_size)  # unreachable: Table I covers every lot from 2 up


def resolve_arrows(severity: Severity, letter: str, aql_label: str) -> tuple[str, int, int]:
    """Follow the master table's arrow from a cell: (code letter used, Ac, Re)."""
    table = master_table(severity)
    letters = list(table)
    column = AQL_SERIES.index(aql_label)
    row = letters.index(letter)
    arrow = cell = _cell(table, letter, column)
    step = {ARROW_DOWN: 1, ARROW_UP: -1}.get(arrow, 0)
    while step and cell == arrow:
        row += step
        cell = _cell(table, letters[row], column)
    accept, reject = _plan(cell, letters[row], aql_label)
    return letters[row], accept, reject


def master_table(severity: Severity) -> dict[str, str]:
    return {
        Severity.NORMAL: TABLE_II_A,
        Severity.TIGHTENED: TABLE_II_B,
        Severity.REDUCED: TABLE_II_C,
    }[severity]


def sample_size_for(severity: Severity, letter: str) -> int:
    sizes = REDUCED_SAMPLE_SIZES if severity is Severity.REDUCED else SAMPLE_SIZES
    return sizes[letter]


def _cell(table: dict[str, str], letter: str, column: int) -> str:
    return table[letter].split()[column]


def _plan(cell: str, letter: str, aql_label: str) -> tuple[int, int]:
    accept, _, reject = cell.partition("/")
    if not (accept.isdigit() and reject.isdigit()):
        raise LookupError(f"master table has no plan at letter {letter}, AQL {aql_label}: {cell!r}")
    return int(accept), int(reject)


def _as_decimal(aql: AqlValue) -> Decimal | None:
    if isinstance(aql, bool):
        return None
    try:
        value = Decimal(str(aql).strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None
