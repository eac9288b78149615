"""The QC gate, a rule of the trade: goods move past an inspection only once it passed.

No stage after an inspection (QC) stage may complete, and the order may not ship, until every
inspection required so far has passed — accepted, or accepted with a concession granted by an
admin. While an inspection is open (or failed) the supplier may still start later stages and
report progress on them below 100 %: packing may go on, nothing may finish, nothing may ship.

Production keeps each inspection quality booked for the order (``Inspections``, inside the
plan) and decides here whether the gate is open; when the last required inspection passes it
says so (``QualityGatePassed``), and the orders service ships only after that fact.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from looptrace_production.rules import QcGateClosed

__all__ = ["Inspection", "InspectionStatus", "Inspections", "QcGateClosed"]


class InspectionStatus(StrEnum):
    OPEN = "open"  # booked, no result yet
    PASSED = "passed"  # accepted, or accepted with an admin's concession
    FAILED = "failed"  # rejected: the order went back to production


@dataclass(slots=True)
class Inspection:
    inspection_id: str
    stage_number: int | None  # None: booked on request, for no stage in particular
    status: InspectionStatus


class QcStage(Protocol):
    @property
    def number(self) -> int: ...

    @property
    def label(self) -> str: ...


@dataclass
class Inspections:
    """The inspections of one order, in the order quality booked them."""

    by_id: dict[str, Inspection] = field(default_factory=dict)

    def record(self, inspection_id: str, stage: int | None, status: InspectionStatus) -> bool:
        """Keep what quality said; whether it changed anything."""
        known = self.by_id.get(inspection_id)
        if known is not None and (known.status, known.stage_number) == (status, stage):
            return False
        if known is not None and known.status is not InspectionStatus.OPEN:
            if status is InspectionStatus.OPEN:
                return False  # a late booking fact never reopens a decided inspection
        self.by_id[inspection_id] = Inspection(inspection_id, stage, status)
        return True

    def latest(self, stage: int | None) -> Inspection | None:
        found = None
        for inspection in self.by_id.values():
            if inspection.stage_number == stage:
                found = inspection
        return found

    def blockers(self, qc_stages: Sequence[QcStage], before: int | None = None) -> list[str]:
        """Why the gate is closed for completing stage ``before`` (None: for shipping)."""
        out = [
            why
            for stage in qc_stages
            if before is None or stage.number < before
            if (why := _blocker(stage.label, self.latest(stage.number)))
        ]
        unstaged = self.latest(None)
        if unstaged is not None and unstaged.status is not InspectionStatus.PASSED:
            out.append(f"inspection {unstaged.inspection_id} is {unstaged.status.value}")
        return out

    def passed_ids(self) -> tuple[str, ...]:
        return tuple(i.inspection_id for i in self.by_id.values() if i.status == "passed")

    def to_dict(self) -> dict[str, list[Any]]:
        return {i.inspection_id: [i.stage_number, i.status.value] for i in self.by_id.values()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Sequence[Any]] | None) -> Inspections:
        return cls(
            {k: Inspection(k, stage, InspectionStatus(s)) for k, (stage, s) in (data or {}).items()}
        )


def _blocker(label: str, latest: Inspection | None) -> str | None:
    if latest is None:
        return f"{label} has not been inspected yet"
    if latest.status is InspectionStatus.PASSED:
        return None
    return f"inspection {latest.inspection_id} of {label} is {latest.status.value}"
