"""What the orders workflow hears of the QC gate. Production owns the gate (it knows the plan's
inspection stages and every result); orders keeps its word and ships only after it.

The gate closes again when quality books an inspection the gate did not count (e.g. one an
admin booked on request) or an inspection fails; a booking production already counted, heard
late over the other topic, changes nothing.
"""

from __future__ import annotations

from looptrace_orders.context import OrdersContext, domain_rules
from looptrace_orders.transitions import apply_reaction, qc_gate_passed
from looptrace_orders.workflow import QcGateClosed
from looptrace_shared.events import production as pev
from looptrace_shared.events import quality as qev


async def open_the_gate(ctx: OrdersContext, fact: pev.QualityGatePassed) -> None:
    order = await ctx.get(fact.order_id)
    order.qc_passed_inspections = list(fact.inspection_ids)
    apply_reaction(ctx, order, "production.quality_gate_passed", "every inspection passed")


async def hold_the_gate_for(ctx: OrdersContext, fact: qev.InspectionScheduled) -> None:
    order = await ctx.get(fact.order_id)
    if fact.inspection_id not in (order.qc_passed_inspections or ()):
        order.qc_passed_inspections = None
    apply_reaction(ctx, order, "quality.inspection_scheduled")


async def close_the_gate_after(ctx: OrdersContext, fact: qev.InspectionFailed) -> None:
    order = await ctx.get(fact.order_id)
    order.qc_passed_inspections = None
    apply_reaction(ctx, order, "quality.inspection_failed", fact.summary)


async def ship_from_production(ctx: OrdersContext, fact: pev.StageCompleted) -> None:
    """Production completed a shipping stage (which it allows only past the gate)."""
    order = await ctx.get(fact.order_id)
    if not qc_gate_passed(order):
        with domain_rules():
            raise QcGateClosed(order.order_number)
    apply_reaction(ctx, order, "production.shipping_stage_completed")
