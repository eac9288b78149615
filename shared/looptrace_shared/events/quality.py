"""Quality events: inspection results in, inspection facts out."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import Field

from looptrace_shared.events.bounds import (
    DEFECTS_MAX,
    LIST_MAX,
    Count,
    DefectClass,
    DefectType,
    Id,
    Moment,
    Name,
    Note,
    Url,
)
from looptrace_shared.events.registry import Payload, event
from looptrace_shared.topics import QUALITY_EVENTS, QUALITY_INBOUND


class DefectCount(Payload):
    defect_class: DefectClass = Field(description="critical | major | minor")
    defect_type: DefectType | None = Field(
        default=None, description="code from the defect catalogue"
    )
    count: Count


@event("InspectionResultSubmitted", QUALITY_INBOUND)
class InspectionResultSubmitted(Payload):
    order_id: Id
    inspection_id: Id | None = Field(default=None, description="defaults to the open one")
    inspector: Name
    sample_inspected: Count
    defects: list[DefectCount] = Field(default_factory=list, max_length=DEFECTS_MAX)
    notes: Note | None = None
    photo_urls: list[Url] = Field(default_factory=list, max_length=LIST_MAX)
    inspected_at: Moment | None = None


class ClassPlan(Payload):
    defect_class: str
    aql: str
    code_letter: str
    sample_size: int
    accept: int
    reject: int


@event("quality.inspection_scheduled", QUALITY_EVENTS)
class InspectionScheduled(Payload):
    order_id: Id
    order_number: Id
    inspection_id: str
    supplier_id: str | None = None
    stage_number: int | None = None
    stage_name: str | None = None
    lot_size: int
    sample_size: int
    severity: str
    plans: list[ClassPlan]
    round: int | None = Field(default=None, description="1 = first inspection of the stage")
    reinspection_of: str | None = Field(default=None, description="the rejected inspection")


class InspectionOutcome(Payload):
    order_id: Id
    order_number: Id
    inspection_id: str
    supplier_id: str | None = None
    stage_number: int | None = None
    stage_name: str | None = None
    inspection_kind: str | None = Field(
        default=None,
        description="final (the plan's last QC stage) | inline (an earlier QC stage) | "
        "on_request (booked for no stage)",
    )
    lot_size: int | None = None
    round: int | None = Field(default=None, description="1 = first inspection of the stage")
    sample_inspected: int
    defects_by_class: dict[str, int]
    summary: str
    disposition: str | None = Field(
        default=None, description="accepted | rejected | accepted_with_concession"
    )


@event("quality.inspection_passed", QUALITY_EVENTS)
class InspectionPassed(InspectionOutcome):
    pass


@event("quality.inspection_failed", QUALITY_EVENTS)
class InspectionFailed(InspectionOutcome):
    pass


@event("quality.supplier_severity_changed", QUALITY_EVENTS)
class SupplierSeverityChanged(Payload):
    order_id: Id
    supplier_id: str
    from_severity: str
    to_severity: str
    discontinued: bool = False
    reason: str | None = Field(default=None, description="the switching rule that applied")


@event("quality.inline_check_recorded", QUALITY_EVENTS)
class InlineCheckRecorded(Payload):
    """An inline check at a production stage (no lot decision): units checked, defects, DHU."""

    order_id: Id
    inline_check_id: str
    supplier_id: str | None = None
    stage_name: str = Field(description="the stage checked, e.g. 'Sewing & Assembly'")
    units_checked: int
    defects_by_class: dict[str, int] = Field(description="critical / major / minor counts")
    dhu: Decimal = Field(description="defects per hundred units")
    checked_at: datetime


class ScreenedTile(Payload):
    index: int = Field(ge=0, description="row * cols + col of the tile grid")
    row: int = Field(ge=0)
    col: int = Field(ge=0)
    box: list[int] = Field(
        min_length=4,
        max_length=4,
        description="x, y, w, h in the photo",
        examples=[[0, 0, 333, 333]],
    )
    kind: DefectType = Field(examples=["stain"])
    confidence: float = Field(ge=0, le=1, description="P(defect) of the tile", examples=[0.83])


@event("quality.photo_screened", QUALITY_EVENTS)
class PhotoScreened(Payload):
    """A stage photo's advisory pre-screening (never a pass/fail verdict). ``status`` is
    ``screened`` (with score, threshold and flagged tiles) or ``unscreenable`` (with
    ``reason``: corrupt | unsupported | too_small | too_large | no_copy)."""

    order_id: Id
    photo_id: Id
    stage_number: int = Field(ge=1, le=100)
    status: str = Field(pattern="^(screened|unscreenable)$", examples=["screened"])
    reason: str | None = None
    message: str | None = Field(default=None, max_length=500)
    score: float | None = Field(default=None, ge=0, le=1, examples=[0.83])
    threshold: float | None = Field(default=None, ge=0, le=1, examples=[0.225])
    flagged: list[ScreenedTile] = Field(
        default_factory=list, max_length=LIST_MAX, description="the most confident flagged tiles"
    )
    flagged_count: int = Field(
        default=0, ge=0, description="all flagged tiles (may exceed the list)"
    )
    actions: list[str] = Field(default_factory=list, max_length=10)
    model: str = Field(
        description="what the model was trained on",
        examples=["synthetic baseline (seed 23, 120 photos)"],
    )
    screened_at: Moment
