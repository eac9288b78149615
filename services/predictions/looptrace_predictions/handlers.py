"""Kafka entrypoints of the predictions worker: events → live order state → one scoring call.

The batch: ``preload`` loads every order of it in one query, the reactions apply each event's
facts in order, ``save`` saves the states, then scores all touched open orders together.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from looptrace_predictions import quality_services as quc
from looptrace_predictions import services as uc
from looptrace_predictions.config import PredictionsSettings
from looptrace_predictions.domain import LiveOrder, LiveStage, StageUnknown
from looptrace_predictions.samples import PP_KIND, PpSample
from looptrace_predictions.services import PredictionsContext, Scoring
from looptrace_shared.errors import RuleViolation
from looptrace_shared.events import orders as oev
from looptrace_shared.events import production as pev
from looptrace_shared.events import quality as qev
from looptrace_shared.events import suppliers as sev
from looptrace_shared.messaging.dispatch import ConsumerGroup, Outcomes, Reaction
from looptrace_shared.messaging.incoming import Incoming
from looptrace_shared.runtime import Runtime
from looptrace_shared.topics import ORDERS_EVENTS, PRODUCTION_EVENTS, QUALITY_EVENTS

log = logging.getLogger(__name__)

GROUP = "predictions"
# Events that make an order known: parked stage events of the order are retried after them.
UNBLOCKS = frozenset({"order.created", "order.supplier_assigned", "production.stages_initialized"})
FINISHED_STATUSES = {"completed": True, "cancelled": False}  # status -> counts as an outcome


class UnknownStage(RuleViolation):
    rule = "unknown_stage"


async def when_order_created(ctx: PredictionsContext, item: Incoming) -> None:
    data: oev.OrderCreated = item.data
    order = ctx.order(data.order_id)
    order.learn(**_order_facts(data), order_date=item.envelope.time.date())
    ctx.touch(order)


async def when_supplier_assigned(ctx: PredictionsContext, item: Incoming) -> None:
    data: oev.OrderSupplierAssigned = item.data
    order = ctx.order(data.order_id)
    order.learn(**_order_facts(data), supplier_id=data.supplier.id)
    ctx.touch(order)


async def when_supplier_reassigned(ctx: PredictionsContext, item: Incoming) -> None:
    """The supplier features (track record, load) are the new supplier's from now on."""
    data: pev.SupplierReassigned = item.data
    order = ctx.order(data.order_id)
    order.learn(supplier_id=data.supplier_id)
    ctx.touch(order)


def _order_facts(data: oev.OrderFacts) -> dict[str, object]:
    return {
        "order_number": data.order_number,
        "buyer_id": data.buyer.id,
        "product_category": data.product_category,
        "quantity": data.quantity,
        "target_date": data.target_date,
        "has_print": data.has_print,
    }


async def when_stages_initialized(ctx: PredictionsContext, item: Incoming) -> None:
    data: pev.StagesInitialized = item.data
    order = ctx.order(data.order_id)
    order.learn(
        order_number=data.order_number, supplier_id=data.supplier_id, buyer_id=data.buyer_id,
        product_category=data.product_category, target_date=data.target_date,
        quantity=data.quantity, projected_completion=data.projected_completion,
    )  # fmt: skip
    if order.order_date is None:  # order.created not seen: the plan is made when it is placed
        order.order_date = item.envelope.time.date()
    order.plan([_stage(s) for s in data.stages])
    ctx.touch(order)


def _stage(s: pev.PlannedStage) -> LiveStage:
    return LiveStage(s.stage_number, s.stage_name, s.planned_start, s.planned_end)


def on_planned_order(change: Callable[[LiveOrder, Any], None]):  # type: ignore[no-untyped-def]
    """An event about the plan: wait for it, refuse a stage it lacks, else apply ``change``."""

    async def reaction(ctx: PredictionsContext, item: Incoming) -> None:
        order = ctx.planned_order(item.data.order_id)
        try:
            change(order, item.data)
        except StageUnknown as err:
            raise UnknownStage(str(err)) from err
        ctx.touch(order)

    return reaction


def _started(order: LiveOrder, d: pev.StageStarted) -> None:
    order.stage_started(d.stage_number, d.started_at.date())


def _completed(order: LiveOrder, d: pev.StageCompleted) -> None:
    order.stage_completed(d.stage_number, d.completed_at.date())


def _reopened(order: LiveOrder, d: pev.StageReopened) -> None:
    order.stage_reopened(d.stage_number)


def _reforecast(order: LiveOrder, d: pev.PlanReforecast) -> None:
    order.learn(projected_completion=d.projected_completion, target_date=d.target_date)


async def when_inspection_failed(ctx: PredictionsContext, item: Incoming) -> None:
    data: qev.InspectionFailed = item.data
    order = ctx.planned_order(data.order_id)
    order.inspection_failed(data.stage_number)
    quc.record_outcome(ctx, order, data, item.envelope.time.date())
    ctx.touch(order)


async def when_inspection_passed(ctx: PredictionsContext, item: Incoming) -> None:
    data: qev.InspectionPassed = item.data
    order = ctx.order(data.order_id)
    quc.record_outcome(ctx, order, data, item.envelope.time.date())
    ctx.touch(order)


async def when_inline_check_recorded(ctx: PredictionsContext, item: Incoming) -> None:
    data: qev.InlineCheckRecorded = item.data
    order = ctx.order(data.order_id)
    quc.record_inline(ctx, order, data)
    ctx.touch(order)


async def when_pp_sample_moved(ctx: PredictionsContext, item: Incoming) -> None:
    """The pre-production sample's loop (its rounds and lateness are delay-risk features)."""
    data: pev.SampleRef = item.data
    if data.kind != PP_KIND:
        return
    order = ctx.order(data.order_id)
    order.pp_sample = order.pp_sample or PpSample()
    order.pp_sample.heard(item.type, data)
    ctx.touch(order)


def on_capacity(overloaded: bool):  # type: ignore[no-untyped-def]
    """Production's word on a supplier-week: kept for the load feature of the supplier's orders
    (they use it from their next assessment: the next event or the periodic rescoring)."""

    async def reaction(ctx: PredictionsContext, item: Incoming) -> None:
        d: sev.CapacityWeek = item.data
        ctx.capacity_week(d.supplier_id, d.week, d.bucket, d.utilisation_pct, overloaded)

    return reaction


async def when_production_completed(ctx: PredictionsContext, item: Incoming) -> None:
    data: pev.ProductionCompleted = item.data
    ctx.close(data.order_id, data.completed_at, completed=True)


async def when_status_changed(ctx: PredictionsContext, item: Incoming) -> None:
    data: oev.OrderStatusChanged = item.data
    if data.status in FINISHED_STATUSES:
        ctx.close(data.order_id, item.envelope.time, completed=FINISHED_STATUSES[data.status])


REACTIONS: dict[str, Reaction[PredictionsContext]] = {
    "order.created": when_order_created,
    "order.supplier_assigned": when_supplier_assigned,
    "order.status_changed": when_status_changed,
    "production.stages_initialized": when_stages_initialized,
    "production.supplier_reassigned": when_supplier_reassigned,
    "production.stage_started": on_planned_order(_started),
    "production.stage_completed": on_planned_order(_completed),
    "production.stage_reopened": on_planned_order(_reopened),
    "production.plan_reforecast": on_planned_order(_reforecast),
    "production.production_completed": when_production_completed,
    "production.sample_requested": when_pp_sample_moved,
    "production.sample_rejected": when_pp_sample_moved,
    "production.sample_approved": when_pp_sample_moved,
    "production.capacity_overloaded": on_capacity(overloaded=True),
    "production.capacity_recovered": on_capacity(overloaded=False),
    "quality.inspection_failed": when_inspection_failed,
    "quality.inspection_passed": when_inspection_passed,
    "quality.inline_check_recorded": when_inline_check_recorded,
}


def unless_closed(reaction: Reaction[PredictionsContext]) -> Reaction[PredictionsContext]:
    """Events of a finished order change nothing (its outcome is already recorded)."""

    async def guarded(ctx: PredictionsContext, item: Incoming) -> None:
        if not ctx.is_closed(item.subject):
            await reaction(ctx, item)

    return guarded


async def preload(ctx: PredictionsContext, items: list[Incoming]) -> None:
    """Every order of the batch, locked, in one query."""
    await ctx.preload(i.subject for i in items)


async def save(ctx: PredictionsContext, items: list[Incoming], outcomes: Outcomes) -> None:
    """The states and inspections, then one scoring call per model for every touched open order."""
    await uc.save(ctx)
    await quc.save_inspections(ctx)
    await uc.assess_orders(ctx, list(ctx.touched))
    await quc.assess_quality_orders(ctx, list(ctx.touched))


def consumer_groups(
    rt: Runtime[PredictionsSettings, Scoring],
) -> list[ConsumerGroup[PredictionsContext]]:
    scoring, margin = rt.state, rt.settings.hysteresis_margin
    return [
        ConsumerGroup(
            GROUP,
            (ORDERS_EVENTS, PRODUCTION_EVENTS, QUALITY_EVENTS),
            {event_type: unless_closed(reaction) for event_type, reaction in REACTIONS.items()},
            context=lambda uow: scoring.context(uow, margin),
            preload=preload,
            save=save,
            unblocks=UNBLOCKS,
        )
    ]
