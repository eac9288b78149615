"""Use cases of quality risk: keep the inspections quality reports, assess each touched order's
next inspection, and alert (``predictions.quality_risk``) when its level changes.

The inspections land in ``inspection_log`` in the columns of the inspections history, so the
live record and a training export are the same table. The assessment runs in the batch's
transaction after the delay assessment (``handlers.save``); the level and its probability
are kept on the order's row, and an alert is emitted once per level change (hysteresis:
``risk.next_level`` with the quality model's thresholds).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import pandas as pd
from sqlalchemy import or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from looptrace_predictions.domain import LiveOrder
from looptrace_predictions.features import epoch_days
from looptrace_predictions.models import InspectionLogRow
from looptrace_predictions.quality_scoring import QualityAssessment, assess_quality, next_inspection
from looptrace_predictions.services import PredictionsContext, _order_states
from looptrace_shared.events import quality as qev
from looptrace_shared.events.predictions import QualityRisk

LOG_COLUMNS = ["order_id", "supplier_id", "inspection_stage", "inspected_on", "sample_size",
               "critical", "major", "minor", "result"]  # fmt: skip


def record_outcome(
    ctx: PredictionsContext, order: LiveOrder, data: qev.InspectionOutcome, on: date
) -> None:
    """A lot inspection's result (passed / failed) for the record."""
    counts = data.defects_by_class
    ctx.pending_inspections.append({
        "inspection_id": data.inspection_id, "order_id": data.order_id,
        "supplier_id": data.supplier_id or order.supplier_id,
        "inspection_stage": data.stage_name or "on request", "inspected_on": on,
        "sample_size": max(data.sample_inspected, 1), "critical": counts.get("critical", 0),
        "major": counts.get("major", 0), "minor": counts.get("minor", 0),
        "result": "rejected" if data.disposition == "rejected" else "accepted",
    })  # fmt: skip


def record_inline(ctx: PredictionsContext, order: LiveOrder, data: qev.InlineCheckRecorded) -> None:
    counts = data.defects_by_class
    ctx.pending_inspections.append({
        "inspection_id": data.inline_check_id, "order_id": data.order_id,
        "supplier_id": data.supplier_id or order.supplier_id, "inspection_stage": data.stage_name,
        "inspected_on": data.checked_at.date(), "sample_size": max(data.units_checked, 1),
        "critical": counts.get("critical", 0), "major": counts.get("major", 0),
        "minor": counts.get("minor", 0), "result": "inline",
    })  # fmt: skip


async def save_inspections(ctx: PredictionsContext) -> None:
    if ctx.pending_inspections:
        stmt = pg_insert(InspectionLogRow).on_conflict_do_nothing(index_elements=["inspection_id"])
        await ctx.uow.session.execute(stmt, ctx.pending_inspections)
        ctx.pending_inspections = []
        await ctx.uow.session.flush()


async def inspections_of(
    ctx: PredictionsContext, suppliers: set[str], order_ids: set[str]
) -> pd.DataFrame:
    """The recorded inspections of these suppliers and orders, as the feature code reads them."""
    q = select(*(getattr(InspectionLogRow, c) for c in LOG_COLUMNS)).where(
        or_(InspectionLogRow.supplier_id.in_(suppliers), InspectionLogRow.order_id.in_(order_ids))
    )
    rows = (await ctx.uow.session.execute(q)).all()
    frame = pd.DataFrame([tuple(r) for r in rows], columns=LOG_COLUMNS)
    frame["supplier_id"] = frame["supplier_id"].fillna("")
    return frame.assign(day=epoch_days(frame["inspected_on"]) if len(frame) else [])


async def assess_quality_orders(
    ctx: PredictionsContext, order_ids: Iterable[str]
) -> list[QualityAssessment]:
    """Score the next inspection of these orders (open, scorable, one ahead); alert on changes."""
    if ctx.quality is None:
        return []
    orders = [
        ctx.orders[oid] for oid in order_ids
        if oid in ctx.orders and ctx.orders[oid].scorable and not ctx.is_closed(oid)
        and next_inspection(ctx.orders[oid]) is not None
    ]  # fmt: skip
    if not orders:
        return []
    states = await _order_states(ctx, orders)
    log = await inspections_of(ctx, {s.supplier_id for s in states}, {o.order_id for o in orders})
    previous = [ctx.rows[o.order_id].quality_risk_level for o in orders]
    assessed = assess_quality(ctx.quality, states, orders, log, previous, ctx.as_of, ctx.margin)
    for order, a in zip(orders, assessed, strict=True):
        row = ctx.rows[order.order_id]
        row.quality_risk_level, row.quality_probability = a.level, a.probability
        if a.changed:
            ctx.emit(order.order_id, _alert(order, a), cause=ctx.touched.get(order.order_id))
    await ctx.uow.session.flush()
    return assessed


def _alert(order: LiveOrder, a: QualityAssessment) -> QualityRisk:
    return QualityRisk(
        order_id=order.order_id, order_number=order.order_number, buyer_id=order.buyer_id,
        supplier_id=order.supplier_id, risk_level=a.level, previous_risk_level=a.previous_level,
        probability=a.probability, baseline_probability=a.baseline_probability,
        inspection_stage=a.inspection_stage, inspection_round=a.inspection_round,
        drivers=a.drivers, recommended_actions=a.actions, model_version=a.model_version,
        baseline=a.baseline,
    )  # fmt: skip
