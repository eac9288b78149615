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
