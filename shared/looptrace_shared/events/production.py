"""Production events: supplier progress in, plan facts out."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field

from looptrace_shared.events.bounds import (
    LIST_MAX,
    Code,
    DelayReason,
    Finite,
    Id,
    MessageId,
    Moment,
    Note,
    StageNumber,
    Url,
)
from looptrace_shared.events.registry import Payload, event
from looptrace_shared.topics import PRODUCTION_EVENTS, PRODUCTION_PROGRESS


@event("ProgressReported", PRODUCTION_PROGRESS)
class ProgressReported(Payload):
    """A supplier integration reports progress on one stage of one order."""

    order_id: Id | None = Field(default=None, description="order id, or give order_number")
    order_number: Id | None = None
    stage: StageNumber | Code = Field(description="stage number or name")
    percentage: Finite
    reported_at: Moment
    notes: Note | None = None
    photo_urls: list[Url] = Field(default_factory=list, max_length=LIST_MAX)
    correction: bool = False
    delay_reason: DelayReason | None = None
    message_id: MessageId | None = Field(
        default=None,
        description="the supplier's id of this report; a resend with the same id is ignored "
        "(defaults to the envelope id)",
    )


class StageRef(Payload):
    order_id: Id
    order_number: Id
    stage_number: int
    stage_name: str


class PlannedStage(Payload):
    stage_number: int
    stage_name: str
    status: str
    planned_start: date | None
    planned_end: date | None
    qc: bool = False
    milestone: bool = False
    shipping: bool = False


@event("production.stages_initialized", PRODUCTION_EVENTS)
class StagesInitialized(Payload):
    order_id: Id
    order_number: Id
    supplier_id: str
    product_category: str
    target_date: date
    projected_completion: date
    at_risk: bool
    at_risk_reason: str | None = None
    stages: list[PlannedStage]
    quantity: int | None = Field(
        default=None, gt=0, description="order quantity: the lot size quality inspects"
    )
    buyer_id: str | None = Field(default=None, description="the buyer who placed the order")


@event("production.stage_started", PRODUCTION_EVENTS)
class StageStarted(StageRef):
    started_at: datetime
    first_stage: bool = False
    planned_start: date | None = None


@event("production.stage_progressed", PRODUCTION_EVENTS)
class StageProgressed(StageRef):
    percentage: float
    previous_percentage: float
    reported_at: datetime


@event("production.stage_completed", PRODUCTION_EVENTS)
class StageCompleted(StageRef):
    completed_at: datetime
    qc: bool = False
    milestone: bool = False
    shipping: bool = False
    planned_end: date | None = None


@event("production.stage_delayed", PRODUCTION_EVENTS)
class StageDelayed(StageRef):
    days_late: int
    forecast_end: date
    reason: str | None = None


@event("production.stage_reopened", PRODUCTION_EVENTS)
class StageReopened(StageRef):
    """A failed inspection sent the order back: this stage is redone (status pending/in progress)."""

    reopened_at: datetime
    reason: str = Field(description="delay reason code, e.g. quality_rework")
    inspection_id: str | None = None


@event("production.plan_reforecast", PRODUCTION_EVENTS)
class PlanReforecast(Payload):
    order_id: Id
    order_number: Id
    projected_completion: date
    previous_projected_completion: date
    target_date: date
    slip_days: int
    reason: str | None = None


@event("production.production_completed", PRODUCTION_EVENTS)
class ProductionCompleted(Payload):
    order_id: Id
    order_number: Id
    completed_at: datetime


@event("production.quality_gate_passed", PRODUCTION_EVENTS)
class QualityGatePassed(Payload):
    """Every inspection the order's plan requires has passed (accepted, or accepted with an
    admin's concession): later stages may complete and the goods may ship."""

    order_id: str
    order_number: str
    inspection_ids: list[str] = Field(description="the passed inspections the gate counted")
    passed_at: datetime


@event("production.supplier_reassigned", PRODUCTION_EVENTS)
class SupplierReassigned(Payload):
    """The order moved from one supplier to another. Access, open inspections and what comes
    next follow the new supplier; what was already done stays attributed to the previous one."""

    order_id: str
    order_number: str
    previous_supplier_id: str
    supplier_id: str
    supplier_name: str | None = None
    buyer_id: str | None = None
    reassigned_at: datetime


class SampleRef(Payload):
    order_id: str
    order_number: str
    sample_id: str
    kind: str = Field(description="proto | fit | size_set | pre_production | shipment")
    round: int = Field(description="1 for the first submission, +1 after each rejection")
    supplier_id: str | None = None
    buyer_id: str | None = None


@event("production.sample_requested", PRODUCTION_EVENTS)
class SampleRequested(SampleRef):
    """The buyer asked the supplier for a sample, due on ``due_date``."""

    due_date: date
    requested_at: datetime
    planned_date: date | None = Field(
        default=None, description="the kind's T&A milestone (scheduled backwards), if any"
    )


@event("production.sample_submitted", PRODUCTION_EVENTS)
class SampleSubmitted(SampleRef):
    """The supplier sent the sample: the buyer is asked to approve or reject it."""

    quantity: int
    courier: str | None = None
    tracking_number: str | None = None
    photo_refs: list[str] = Field(default_factory=list)
    document_refs: list[str] = Field(default_factory=list)
    submitted_at: datetime
    due_date: date


@event("production.sample_approved", PRODUCTION_EVENTS)
class SampleApproved(SampleRef):
    """The buyer approved the sample (with comments when ``comments`` is set)."""

    comments: str | None = None
    approved_at: datetime
    gate_opened: bool = Field(
        default=False, description="the pre-production sample: bulk production may start"
    )


@event("production.sample_rejected", PRODUCTION_EVENTS)
class SampleRejected(SampleRef):
    """The buyer rejected the sample: resubmit by ``next_due_date`` (round + 1)."""

    reasons: str
    next_due_date: date
    rejected_at: datetime


SCREENING_COPY_MAX = 700_000  # base64 characters: a 1024-pixel JPEG, well under Kafka's 1 MB


@event("production.photo_stored", PRODUCTION_EVENTS)
class PhotoStored(Payload):
    """A stage photo was stored. It carries a downscaled JPEG copy (longest side at most 1024
    pixels, base64) for the quality service's pre-screening, so no service reads another's
    files; ``screening_copy`` is None (with ``copy_problem``) when no copy could be made."""

    order_id: Id
    order_number: str
    photo_id: Id
    stage_number: StageNumber
    stage_name: str
    content_type: str
    width: int = Field(ge=1)
    height: int = Field(ge=1)
    uploaded_by: str
    stored_at: Moment
    screening_copy: str | None = Field(default=None, max_length=SCREENING_COPY_MAX)
    copy_problem: str | None = Field(default=None, max_length=500)
