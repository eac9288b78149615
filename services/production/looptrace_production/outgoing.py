"""Domain events of a plan → the wire contracts of ``production.events.v1``.

The events of every progress report (started, progressed, completed, re-forecast, production
completed) take a hot path: their payloads are built as plain dicts and their envelopes
without validation, since the domain has already checked every value. A unit test holds
each hot builder to the same JSON as its pydantic contract below.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from looptrace_production import events as de
from looptrace_production.repository import SupplierOrder
from looptrace_shared.envelope import Encoded, encode_envelope
from looptrace_shared.events import production as wire
from looptrace_shared.events.registry import Payload

PUBLISHES = (
    "production.stages_initialized",
    "production.stage_started",
    "production.stage_progressed",
    "production.stage_completed",
    "production.stage_delayed",
    "production.stage_reopened",
    "production.plan_reforecast",
    "production.production_completed",
)


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


def started(order: SupplierOrder, e: de.StageStarted) -> wire.StageStarted:
    return wire.StageStarted(
        **_ref(order, e),
        started_at=e.started_at,
        first_stage=e.first_stage,
        planned_start=e.planned_start,
    )


def progressed(order: SupplierOrder, e: de.StageProgressed) -> wire.StageProgressed:
    return wire.StageProgressed(
        **_ref(order, e),
        percentage=e.percentage,
        previous_percentage=e.previous_percentage,
        reported_at=e.reported_at,
    )


def completed(order: SupplierOrder, e: de.StageCompleted) -> wire.StageCompleted:
    return wire.StageCompleted(
        **_ref(order, e),
        completed_at=e.completed_at,
        qc=e.qc,
        milestone=e.milestone,
        shipping=e.shipping,
        planned_end=e.planned_end,
    )


def delayed(order: SupplierOrder, e: de.StageDelayed) -> wire.StageDelayed:
    reason = e.reason.value if e.reason else None
    return wire.StageDelayed(
        **_ref(order, e), days_late=e.days_late, forecast_end=e.forecast_end, reason=reason
    )


def reopened(order: SupplierOrder, e: de.StageReopened) -> wire.StageReopened:
    return wire.StageReopened(**_ref(order, e), reopened_at=e.reopened_at, reason=e.reason.value)


def reforecast(order: SupplierOrder, e: de.PlanReforecast) -> wire.PlanReforecast:
    return wire.PlanReforecast(
        order_id=order.order_id,
        order_number=order.order_number,
        projected_completion=e.projected_completion,
        previous_projected_completion=e.previous_projected_completion,
        target_date=e.target_date,
        slip_days=e.slip_days,
        reason=e.reason,
    )


def production_completed(
    order: SupplierOrder, e: de.ProductionCompleted
) -> wire.ProductionCompleted:
    return wire.ProductionCompleted(
        order_id=order.order_id, order_number=order.order_number, completed_at=e.completed_at
    )


_WIRE: dict[type, tuple[str, Callable[[SupplierOrder, Any], Payload]]] = {
    de.StagesInitialized: ("production.stages_initialized", initialized),
    de.StageStarted: ("production.stage_started", started),
    de.StageProgressed: ("production.stage_progressed", progressed),
    de.StageCompleted: ("production.stage_completed", completed),
    de.StageDelayed: ("production.stage_delayed", delayed),
    de.StageReopened: ("production.stage_reopened", reopened),
    de.PlanReforecast: ("production.plan_reforecast", reforecast),
    de.ProductionCompleted: ("production.production_completed", production_completed),
}


def to_wire(order: SupplierOrder, event: de.DomainEvent) -> tuple[str, Payload]:
    type_, build = _WIRE[type(event)]
    return type_, build(order, event)


# ---- hot path: plain dicts, envelopes built without validation ----------------------------


def _ref_data(order: SupplierOrder, e: Any) -> dict[str, Any]:
    return {
        "order_id": order.order_id,
        "order_number": order.order_number,
        "stage_number": e.stage_number,
        "stage_name": e.stage_name,
    }


def started_data(order: SupplierOrder, e: de.StageStarted) -> dict[str, Any]:
    data = _ref_data(order, e)
    data.update(started_at=e.started_at, first_stage=e.first_stage, planned_start=e.planned_start)
    return data


def progressed_data(order: SupplierOrder, e: de.StageProgressed) -> dict[str, Any]:
    data = _ref_data(order, e)
    data["percentage"] = float(e.percentage)
    data["previous_percentage"] = float(e.previous_percentage)
    data["reported_at"] = e.reported_at
    return data


def completed_data(order: SupplierOrder, e: de.StageCompleted) -> dict[str, Any]:
    data = _ref_data(order, e)
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


HOT: dict[type, Callable[[SupplierOrder, Any], dict[str, Any]]] = {
    de.StageStarted: started_data,
    de.StageProgressed: progressed_data,
    de.StageCompleted: completed_data,
    de.PlanReforecast: reforecast_data,
    de.ProductionCompleted: production_completed_data,
}


def wire_envelope(
    order: SupplierOrder,
    event: de.DomainEvent,
    source: str,
    ids: tuple[str | None, str | None] = (None, None),
) -> Encoded:
    """The envelope of one domain event as ``new_envelope`` builds it, serialized; hot events
    skip the pydantic models. ``ids``: ``cause_ids()`` of the message that caused it."""
    type_, build = _WIRE[type(event)]
    hot = HOT.get(type(event))
    data = hot(order, event) if hot else build(order, event).model_dump(mode="json")
    return encode_envelope(type_, source, order.order_id, data, ids)
