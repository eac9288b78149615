"""The delay sweeper: a periodic job that marks late stages delayed, a batch of plans at a time."""

from __future__ import annotations

import logging
from typing import Any

from looptrace_production import repository as repo
from looptrace_production.services import Planning, ProductionContext
from looptrace_shared.runtime import Runtime

log = logging.getLogger(__name__)


def mark_delays(ctx: ProductionContext) -> int:
    """Sweep the loaded plans: every stage past its forecast end is delayed, once per slip."""
    now, emitted = ctx.planning.now(), 0
    for order in ctx.orders.values():
        emitted += len(ctx.publish(order, order.plan.mark_delayed(now)))
        emitted += len(ctx.publish(order, order.plan.reforecast_samples(now)))
    return emitted


async def sweep_once(
    rt: Runtime[Any, Any], planning: Planning, after: str, limit: int
) -> tuple[int, int, str]:
    """One transaction: lock the next open plans, mark delays, save. (plans, events, last id)."""
    async with rt.unit_of_work() as uow:
        ctx = ProductionContext(uow, planning)
        for order in await repo.lock_open_orders(uow.session, after, limit):
            ctx.keep(order)
        emitted = mark_delays(ctx)
        await ctx.save()
        await uow.commit()
    return len(ctx.orders), emitted, max(ctx.orders, default=after)


async def sweep_delays(rt: Runtime[Any, Any], planning: Planning) -> int:
    """Walk every open plan once (keyset by order id); returns the delay events emitted."""
    limit, after, total = planning.settings.sweep_batch, "", 0
    while True:
        seen, emitted, after = await sweep_once(rt, planning, after, limit)
        total += emitted
        if seen < limit:
            break
    if total:
        log.info("delay sweep: %d stage_delayed events", total)
    return total
