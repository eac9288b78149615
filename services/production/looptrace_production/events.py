"""Vocabulary and domain events of production stages (plain dataclasses, no I/O).

Field names follow the wire contracts in ``looptrace_shared.events.production``. The events
of every progress report are plain (slotted) dataclasses: values nobody changes, but not
``frozen`` (a frozen dataclass sets each field through ``object.__setattr__``: five times
slower to build, and several are built per report).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum


class StageStatus(StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    SKIPPED = "skipped"
    DELAYED = "delayed"


class DelayReason(StrEnum):
    MATERIAL_DELAY = "material_delay"
    CAPACITY = "capacity"
    QUALITY_REWORK = "quality_rework"
    APPROVAL_PENDING = "approval_pending"
    OTHER = "other"


class SampleKind(StrEnum):
    PROTO = "proto"
    FIT = "fit"
    SIZE_SET = "size_set"
    PRE_PRODUCTION = "pre_production"
    SHIPMENT = "shipment"


@dataclass(frozen=True)
class PlannedStage:
    stage_number: int
    stage_name: str
    status: StageStatus
    planned_start: date | None
    planned_end: date | None
    qc: bool
    milestone: bool
    shipping: bool


@dataclass(frozen=True)
class StagesInitialized:
    stages: tuple[PlannedStage, ...]
    at_risk: bool
    at_risk_reason: str | None
    projected_completion: date
    target_date: date


@dataclass(slots=True)  # a value, not frozen: see the module docstring
class StageStarted:
    stage_number: int
    stage_name: str
    started_at: datetime
    first_stage: bool
    planned_start: date | None


@dataclass(slots=True)  # a value, not frozen: see the module docstring
class StageProgressed:
    stage_number: int
    stage_name: str
    percentage: float
    previous_percentage: float
    reported_at: datetime
    message_id: str
    notes: str | None
    photo_urls: tuple[str, ...]
    correction: bool
    delay_reason: DelayReason | None


@dataclass(slots=True)  # a value, not frozen: see the module docstring
class StageCompleted:
    stage_number: int
    stage_name: str
    completed_at: datetime
    qc: bool
    milestone: bool
    shipping: bool
    planned_end: date | None


@dataclass(frozen=True)
class StageDelayed:
    stage_number: int
    stage_name: str
    days_late: int  # calendar days between forecast_end and the day of the sweep
    forecast_end: date
    reason: DelayReason | None


@dataclass(frozen=True)
class StageReopened:
    stage_number: int
    stage_name: str
    reopened_at: datetime
    reason: DelayReason


@dataclass(slots=True)  # a value, not frozen: see the module docstring
class PlanReforecast:
    projected_completion: date
    previous_projected_completion: date
    slip_days: int  # working days; negative when the projection moved earlier
    reason: str
    target_date: date
    stage_number: int | None = None
    stage_name: str | None = None


@dataclass(slots=True)  # a value, not frozen: see the module docstring
class ProductionCompleted:
    completed_at: datetime
    target_date: date


@dataclass(frozen=True)
class QualityGatePassed:
    """Every inspection the plan requires has passed (see qc_gate): the goods may ship."""

    inspection_ids: tuple[str, ...]
    passed_at: datetime


@dataclass(frozen=True)
class SupplierReassigned:
    """The order moved to another supplier; what the previous one did stays theirs."""

    previous_supplier_id: str
    supplier_id: str
    supplier_name: str | None
    reassigned_at: datetime


@dataclass(frozen=True)
class SampleRequested:
    """The buyer asked for a sample (round 1), or for a resubmission after a rejection."""

    sample_id: str
    kind: str
    round: int
    due_date: date
    requested_at: datetime
    planned_date: date | None  # the T&A milestone of this kind, scheduled backwards


@dataclass(frozen=True)
class SampleSubmitted:
    sample_id: str
    kind: str
    round: int
    quantity: int
    courier: str | None
    tracking_number: str | None
    photo_refs: tuple[str, ...]
    document_refs: tuple[str, ...]
    submitted_at: datetime
    due_date: date


@dataclass(frozen=True)
class SampleApproved:
    sample_id: str
    kind: str
    round: int
    comments: str | None  # approved with comments when given
    approved_at: datetime
    gate_opened: bool  # the pre-production sample: bulk production may now start


@dataclass(frozen=True)
class SampleRejected:
    sample_id: str
    kind: str
    round: int
    reasons: str
    next_due_date: date  # the resubmission's due date (the next round)
    rejected_at: datetime


@dataclass(frozen=True)
class PhotoStored:
    """A stage photo was stored; ``screening_copy`` is its downscaled JPEG (or None, and
    ``copy_problem`` says why) for the quality service's pre-screening."""

    photo_id: str
    stage_number: int
    stage_name: str
    content_type: str
    width: int
    height: int
    uploaded_by: str
    stored_at: datetime
    screening_copy: bytes | None
    copy_problem: str | None


DomainEvent = (
    StagesInitialized
    | StageStarted
    | StageProgressed
    | StageCompleted
    | StageDelayed
    | StageReopened
    | PlanReforecast
    | ProductionCompleted
    | QualityGatePassed
    | SupplierReassigned
    | SampleRequested
    | SampleSubmitted
    | SampleApproved
    | SampleRejected
    | PhotoStored
)
