"""Quality inspection rules: plan per defect class, lot decision, disposition, DHU.

The switching rules between normal, tightened and reduced inspection are in switching.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from looptrace_quality.aql import (
    AqlValue,
    Severity,
    code_letter,
    parse_level,
    parse_severity,
    sample_size_for,
    sampling_plan,
)
from looptrace_quality.catalogue import (
    DefectCatalogue,
    DefectClass,
    default_catalogue,
    parse_defect_class,
)

STANDARD = "ISO 2859-1"
ZERO_TOLERANCE = "0"
DEFAULT_LEVEL = "II"
DEFAULT_AQLS: Mapping[DefectClass, str] = {
    DefectClass.CRITICAL: ZERO_TOLERANCE,
    DefectClass.MAJOR: "2.5",
    DefectClass.MINOR: "4.0",
}


class SampleTooSmall(ValueError):
    def __init__(self, inspected: int, required: int) -> None:
        super().__init__(
            f"{inspected} units were inspected but the plan requires a sample of {required}; "
            f"inspect at least {required} units"
        )


class SampleLargerThanLot(ValueError):
    def __init__(self, inspected: int, lot_size: int) -> None:
        super().__init__(
            f"{inspected} units were inspected but the lot has only {lot_size}; the sample "
            "cannot be larger than the lot"
        )


class InvalidQuantity(ValueError):
    def __init__(self, what: str, value: object) -> None:
        super().__init__(f"{what} must be a whole number of at least 0, got {value!r}")


class NoUnitsInspected(ValueError):
    def __init__(self) -> None:
        super().__init__("DHU needs at least 1 inspected unit; units_inspected was 0")


@dataclass(frozen=True)
class ClassPlan:
    """The sampling plan applied to one defect class."""

    defect_class: DefectClass
    aql: str
    original_code_letter: str
    code_letter: str
    sample_size: int
    accept: int
    reject: int
    full_inspection: bool


@dataclass(frozen=True)
class InspectionPlan:
    """The plan snapshot stored with an inspection: one plan per defect class."""

    lot_size: int
    level: str
    severity: Severity
    classes: tuple[ClassPlan, ...]
    standard: str = STANDARD
    sources: Mapping[str, str] = field(default_factory=dict)  # value -> settings|buyer|order

    @property
    def sample_size(self) -> int:
        return max(c.sample_size for c in self.classes)

    def for_class(self, defect_class: DefectClass) -> ClassPlan:
        return next(c for c in self.classes if c.defect_class is defect_class)

    def to_dict(self) -> dict[str, Any]:
        snapshot = asdict(self)
        snapshot["sample_size"] = self.sample_size
        return snapshot

    @classmethod
    def from_dict(cls, snapshot: Mapping[str, Any]) -> InspectionPlan:
        """The plan as it was resolved when the inspection was booked (see ``to_dict``)."""
        fields = ClassPlan.__dataclass_fields__
        classes = tuple(
            ClassPlan(
                **{**{k: c[k] for k in fields}, "defect_class": DefectClass(c["defect_class"])}
            )
            for c in snapshot["classes"]
        )
        return cls(
            snapshot["lot_size"], snapshot["level"], parse_severity(snapshot["severity"]),
            classes, snapshot.get("standard", STANDARD), dict(snapshot.get("sources", {})),
        )  # fmt: skip


def plan_inspection(
    lot_size: int,
    aqls: Mapping[str, AqlValue] | None = None,
    level: str = DEFAULT_LEVEL,
    severity: str = Severity.NORMAL,
) -> InspectionPlan:
    """Resolve one sampling plan per defect class; ``aqls`` overrides the default AQLs."""
    chosen = dict(DEFAULT_AQLS)
    chosen.update({parse_defect_class(k): str(v) for k, v in (aqls or {}).items()})
    level_name, severity_name = parse_level(level), parse_severity(severity)
    classes = [
        _class_plan(lot_size, c, aql, level_name, severity_name) for c, aql in chosen.items()
    ]
    return InspectionPlan(lot_size, level_name, severity_name, tuple(classes))


def is_zero_tolerance(aql: AqlValue) -> bool:
    try:
        return Decimal(str(aql).strip()) == 0
    except ArithmeticError:
        return False


def _class_plan(
    lot_size: int, defect_class: DefectClass, aql: str, level: str, severity: Severity
) -> ClassPlan:
    if is_zero_tolerance(aql):
        return _zero_tolerance_plan(lot_size, defect_class, level, severity)
    plan = sampling_plan(lot_size, aql, level, severity)
    return ClassPlan(
        defect_class, plan.aql, plan.original_code_letter, plan.code_letter,
        plan.sample_size, plan.accept, plan.reject, plan.full_inspection,
    )  # fmt: skip


def _zero_tolerance_plan(
    lot_size: int, defect_class: DefectClass, level: str, severity: Severity
) -> ClassPlan:
    """AQL 0: no defect of the class is tolerated (Ac 0, Re 1) on the lot's general sample."""
    letter = code_letter(lot_size, level)
    n = sample_size_for(severity, letter)
    return ClassPlan(
        defect_class, ZERO_TOLERANCE, letter, letter, min(n, lot_size), 0, 1, n >= lot_size
    )


@dataclass(frozen=True)
class DefectFinding:
    """Defects found in the sample: ``quantity`` of one type (if known) in one class."""

    defect_class: DefectClass
    quantity: int = 1
    code: str | None = None


def record_finding(
    code: str,
    quantity: int = 1,
    defect_class: str | None = None,
    catalogue: DefectCatalogue | None = None,
) -> DefectFinding:
    """A finding of a catalogued defect type, in its default class unless the inspector overrides."""
    defect = (catalogue or default_catalogue()).get(code)
    chosen = parse_defect_class(defect_class) if defect_class else defect.default_class
    return DefectFinding(chosen, whole_number("quantity", quantity), defect.code)


@dataclass(frozen=True)
class InspectionResult:
    sample_inspected: int
    findings: tuple[DefectFinding, ...] = ()

    def defects_by_class(self) -> dict[DefectClass, int]:
        counts = dict.fromkeys(DefectClass, 0)
        for finding in self.findings:
            counts[finding.defect_class] += whole_number("quantity", finding.quantity)
        return counts


@dataclass(frozen=True)
class ClassVerdict:
    defect_class: DefectClass
    found: int
    accept: int
    reject: int

    @property
    def accepted(self) -> bool:
        return self.found < self.reject

    @property
    def reinstate_normal(self) -> bool:
        """Reduced inspection only: Ac < found < Re accepts the lot but ends reduced inspection."""
        return self.accept < self.found < self.reject


@dataclass(frozen=True)
class Decision:
    verdicts: tuple[ClassVerdict, ...]
    sample_inspected: int

    @property
    def accepted(self) -> bool:
        return all(v.accepted for v in self.verdicts)

    @property
    def outcome(self) -> str:
        return "accepted" if self.accepted else "rejected"

    @property
    def reinstate_normal(self) -> bool:
        return any(v.reinstate_normal for v in self.verdicts)

    @property
    def defects_found(self) -> int:
        return sum(v.found for v in self.verdicts)

    @property
    def dhu(self) -> Decimal:
        return defects_per_hundred_units(self.defects_found, self.sample_inspected)


def decide(plan: InspectionPlan, result: InspectionResult) -> Decision:
    """Accept the lot only if every defect class stays below its rejection number."""
    inspected = whole_number("sample_inspected", result.sample_inspected)
    if inspected < plan.sample_size:
        raise SampleTooSmall(inspected, plan.sample_size)
    counts = result.defects_by_class()
    verdicts = tuple(
        ClassVerdict(c.defect_class, counts[c.defect_class], c.accept, c.reject)
        for c in plan.classes
    )
    return Decision(verdicts, inspected)


def defects_per_hundred_units(defects_found: int, units_inspected: int) -> Decimal:
    """DHU = defects found x 100 / units inspected, to two decimals."""
    defects, units = (
        whole_number("defects_found", defects_found),
        whole_number("units_inspected", units_inspected),
    )
    if units == 0:
        raise NoUnitsInspected()
    return (Decimal(defects * 100) / units).quantize(Decimal("0.01"), ROUND_HALF_UP)


def whole_number(what: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidQuantity(what, value)
    return value


# --- disposition -------------------------------------------------------------------------


class Disposition(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    ACCEPTED_WITH_CONCESSION = "accepted_with_concession"


class ConcessionNotNeeded(ValueError):
    def __init__(self) -> None:
        super().__init__("the lot was accepted; a concession applies to rejected lots only")


class ConcessionNeedsAdmin(ValueError):
    def __init__(self, role: str) -> None:
        super().__init__(f"a concession must be approved by role 'admin', not {role!r}")


class ConcessionNeedsReason(ValueError):
    def __init__(self) -> None:
        super().__init__("a concession needs a reason: say why the rejected lot may ship")


class ReinspectionNotNeeded(ValueError):
    def __init__(self) -> None:
        super().__init__("the lot was accepted; only a rejected lot is reworked and re-inspected")


@dataclass(frozen=True)
class DispositionRecord:
    disposition: Disposition
    rework_required: bool = False
    reason: str | None = None
    approved_by: str | None = None


def dispose(decision: Decision) -> DispositionRecord:
    """The plain disposition: accepted, or rejected and sent back for rework."""
    if decision.accepted:
        return DispositionRecord(Disposition.ACCEPTED)
    return DispositionRecord(Disposition.REJECTED, rework_required=True)


def grant_concession(
    decision: Decision, *, reason: str, approved_by: str, approver_role: str
) -> DispositionRecord:
    """An admin accepts a rejected lot as it is, with a reason on record."""
    if decision.accepted:
        raise ConcessionNotNeeded()
    if approver_role != "admin":
        raise ConcessionNeedsAdmin(approver_role)
    if not reason or not reason.strip():
        raise ConcessionNeedsReason()
    return DispositionRecord(
        Disposition.ACCEPTED_WITH_CONCESSION, reason=reason.strip(), approved_by=approved_by
    )


@dataclass(frozen=True)
class ReinspectionOrder:
    """A reworked lot is inspected again, linked to the inspection that rejected it."""

    reinspection_of: str
    plan: InspectionPlan


def order_reinspection(
    inspection_id: str, decision: Decision, plan: InspectionPlan
) -> ReinspectionOrder:
    if decision.accepted:
        raise ReinspectionNotNeeded()
    return ReinspectionOrder(inspection_id, plan)
