"""Use case: the order left the workflow (cancelled, or signed off as completed).

Its plan is closed: the load of the days after the closing day is released from the
supplier's utilisation through the same deltas a re-forecast writes (a week that drops back
under capacity emits ``capacity_recovered`` when folded), the sweeper no longer marks its
stages delayed, and later progress reports are refused (``order_cancelled`` /
``order_closed``). A closing is recorded whether or not production planned the order yet
(``order_closures``): an assignment arriving after it plans the order closed. Repeats change
nothing.
"""

from __future__ import annotations

from looptrace_production import repository as repo
from looptrace_production.domain.supplier_order import CLOSING, Closure
from looptrace_production.services import ProductionContext
from looptrace_shared.events.orders import OrderStatusChanged


async def close_the_plan(ctx: ProductionContext, fact: OrderStatusChanged) -> bool:
    """Close the order's plan if the status ends the order; True when a plan closed now."""
    if fact.to_status not in CLOSING:
        return False
    now = Closure(fact.to_status, ctx.planning.now())
    kept = await repo.record_closure(ctx.uow.session, fact.order_id, now, fact.reason)
    ctx.closures[fact.order_id] = kept  # an assignment later in this batch plans it closed
    order = await ctx.find(fact.order_id)
    return order is not None and order.close(kept)
