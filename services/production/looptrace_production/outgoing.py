"""Domain events of a plan → the wire contracts of ``production.events.v1``: one table.

``WIRE`` maps each domain event to its wire type and the builder of its payload, as JSON-ready
data. The events of every progress report (started, progressed, completed, re-forecast,
production completed) are built as plain dicts, without their pydantic models: the domain has
already checked every value, and a report's events are most of what production sends; a unit
test holds each of them to its contract. The other events are built through their models.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from looptrace_production import events as de
from looptrace_production.domain import SupplierOrder
from looptrace_shared.envelope import Encoded, encode_envelope
from looptrace_shared.events import production as wire
from looptrace_shared.events.registry import Payload

Builder = Callable[[SupplierOrder, Any], dict[str, Any]]


def _ref(order: SupplierOrder, event: Any) -> dict[str, Any]:
    return {
        "order_id": order.order_id,
        "order_number": order.order_number,
        "stage_number": event.stage_number,
        "stage_name": event.stage_name,
    }


def initialized(order: SupplierOrder, e: de.StagesInitialized) -> wire.StagesInitialized:
    stages = [
        wire.PlannedStage(
            stage_number=s.stage_number,
            stage_name=s.stage_name,
            status=s.status.value,
            planned_start=s.planned_start,
            planned_end=s.planned_end,
            qc=s.qc,
            milestone=s.milestone,
            shipping=s.shipping,
        )
        for s in e.stages
    ]
    return wire.StagesInitialized(
        order_id=order.order_id,
        order_number=order.order_number,
        supplier_id=order.supplier_id,
        product_category=order.product_category,
        target_date=e.target_date,
        projected_completion=e.projected_completion,
        at_risk=e.at_risk,
        at_risk_reason=e.at_risk_reason,
        stages=stages,
        quantity=order.quantity,
        buyer_id=order.buyer_id,
    )


def delayed(order: SupplierOrder, e: de.StageDelayed) -> wire.StageDelayed:
    reason = e.reason.value if e.reason else None
    return wire.StageDelayed(
        **_ref(order, e), days_late=e.days_late, forecast_end=e.forecast_end, reason=reason
    )


def reopened(order: SupplierOrder, e: de.StageReopened) -> wire.StageReopened:
    return wire.StageReopened(**_ref(order, e), reopened_at=e.reopened_at, reason=e.reason.value)


def gate_passed(order: SupplierOrder, e: de.QualityGatePassed) -> wire.QualityGatePassed:
    return wire.QualityGatePassed(
        order_id=order.order_id,
        order_number=order.order_number,
        inspection_ids=list(e.inspection_ids),
        passed_at=e.passed_at,
    )


def reassigned(order: SupplierOrder, e: de.SupplierReassigned) -> wire.SupplierReassigned:
    return wire.SupplierReassigned(
        order_id=order.order_id,
        order_number=order.order_number,
        previous_supplier_id=e.previous_supplier_id,
        supplier_id=e.supplier_id,
        supplier_name=e.supplier_name,
        buyer_id=order.buyer_id,
        reassigned_at=e.reassigned_at,
    )


def _sample_ref(order: SupplierOrder, e: Any) -> dict[str, Any]:
    return {
        "order_id": order.order_id,
        "order_number": order.order_number,
        "sample_id": e.sample_id,
        "kind": e.kind,
        "round": e.round,
        "supplier_id": order.supplier_id,
        "buyer_id": order.buyer_id,
    }


def sample_requested(order: SupplierOrder, e: de.SampleRequested) -> wire.SampleRequested:
    return wire.SampleRequested(
        **_sample_ref(order, e),
        due_date=e.due_date,
        requested_at=e.requested_at,
        planned_date=e.planned_date,
    )


def sample_submitted(order: SupplierOrder, e: de.SampleSubmitted) -> wire.SampleSubmitted:
    return wire.SampleSubmitted(
        **_sample_ref(order, e),
        quantity=e.quantity,
        courier=e.courier,
        tracking_number=e.tracking_number,
        photo_refs=list(e.photo_refs),
        document_refs=list(e.document_refs),
        submitted_at=e.submitted_at,
        due_date=e.due_date,
    )


def sample_approved(order: SupplierOrder, e: de.SampleApproved) -> wire.SampleApproved:
    return wire.SampleApproved(
        **_sample_ref(order, e),
        comments=e.comments,
        approved_at=e.approved_at,
        gate_opened=e.gate_opened,
    )


def sample_rejected(order: SupplierOrder, e: de.SampleRejected) -> wire.SampleRejected:
    return wire.SampleRejected(
        **_sample_ref(order, e),
        reasons=e.reasons,
        next_due_date=e.next_due_date,
        rejected_at=e.rejected_at,
    )


def photo_stored(order: SupplierOrder, e: de.PhotoStored) -> wire.PhotoStored:
    copy = base64.b64encode(e.screening_copy).decode() if e.screening_copy else None
    return wire.PhotoStored(
        order_id=order.order_id,
        order_number=order.order_number,
        photo_id=e.photo_id,
        stage_number=e.stage_number,
        stage_name=e.stage_name,
        content_type=e.content_type,
        width=e.width,
        height=e.height,
        uploaded_by=e.uploaded_by,
        stored_at=e.stored_at,
        screening_copy=copy,
        copy_problem=e.copy_problem,
    )


def started_data(order: SupplierOrder, e: de.StageStarted) -> dict[str, Any]:
    data = _ref(order, e)
    data.update(started_at=e.started_at, first_stage=e.first_stage, planned_start=e.planned_start)
    return data


def progressed_data(order: SupplierOrder, e: de.StageProgressed) -> dict[str, Any]:
    data = _ref(order, e)
    data["percentage"] = float(e.percentage)
    data["previous_percentage"] = float(e.previous_percentage)
    data["reported_at"] = e.reported_at
    return data


def completed_data(order: SupplierOrder, e: de.StageCompleted) -> dict[str, Any]:
    data = _ref(order, e)
    data.update(completed_at=e.completed_at, qc=e.qc, milestone=e.milestone, shipping=e.shipping)
    data["planned_end"] = e.planned_end
    return data


def reforecast_data(order: SupplierOrder, e: de.PlanReforecast) -> dict[str, Any]:
    return {
        "order_id": order.order_id,
        "order_number": order.order_number,
        "projected_completion": e.projected_completion,
        "previous_projected_completion": e.previous_projected_completion,
        "target_date": e.target_date,
        "slip_days": e.slip_days,
        "reason": e.reason,
    }


def production_completed_data(order: SupplierOrder, e: de.ProductionCompleted) -> dict[str, Any]:
    return {
        "order_id": order.order_id,
        "order_number": order.order_number,
        "completed_at": e.completed_at,
    }


def _through(build: Callable[[SupplierOrder, Any], Payload]) -> Builder:
    """A builder through the event's pydantic contract (validated, dumped as JSON)."""
    return lambda order, event: build(order, event).model_dump(mode="json")


WIRE: dict[type, tuple[str, Builder]] = {
    de.StagesInitialized: ("production.stages_initialized", _through(initialized)),
    de.StageStarted: ("production.stage_started", started_data),
    de.StageProgressed: ("production.stage_progressed", progressed_data),
    de.StageCompleted: ("production.stage_completed", completed_data),
    de.StageDelayed: ("production.stage_delayed", _through(delayed)),
    de.StageReopened: ("production.stage_reopened", _through(reopened)),
    de.PlanReforecast: ("production.plan_reforecast", reforecast_data),
    de.ProductionCompleted: ("production.production_completed", production_completed_data),
    de.QualityGatePassed: ("production.quality_gate_passed", _through(gate_passed)),
    de.SupplierReassigned: ("production.supplier_reassigned", _through(reassigned)),
    de.SampleRequested: ("production.sample_requested", _through(sample_requested)),
    de.SampleSubmitted: ("production.sample_submitted", _through(sample_submitted)),
    de.SampleApproved: ("production.sample_approved", _through(sample_approved)),
    de.SampleRejected: ("production.sample_rejected", _through(sample_rejected)),
    de.PhotoStored: ("production.photo_stored", _through(photo_stored)),
}
PUBLISHES = tuple(type_ for type_, _ in WIRE.values())


def wire_envelope(
    order: SupplierOrder,
    event: de.DomainEvent,
    source: str,
    ids: tuple[str | None, str | None] = (None, None),
) -> Encoded:
    """The envelope of one domain event as ``new_envelope`` builds it, serialized.
    ``ids``: ``cause_ids()`` of the message that caused it (worked out once per cause)."""
    type_, build = WIRE[type(event)]
    return encode_envelope(type_, source, order.order_id, build(order, event), ids)
