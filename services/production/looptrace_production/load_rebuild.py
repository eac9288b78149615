"""Rebuild the planned load from the plans themselves: ``looptrace production rebuild-load``.

Load is kept incrementally (``utilisation``): each plan save appends the change of its load.
Plans made before the supplier network existed never had their first load written, so their
suppliers' weeks show less than is planned. The rebuild reads every plan (open, completed or
closed, each with the load ``domain.capacity`` gives it, as the incremental upkeep does),
sums what the weeks should hold, and appends the difference from what they hold as one more
batch of deltas, folded at once: weeks that cross their capacity emit their events as any
change does. Run it again and the difference is nothing.

It holds a SHARE lock on ``supplier_orders`` for its transaction (seconds for 10,000 plans),
so no plan can change between being read and the difference being written; consumers wait
for it, nothing is lost.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from looptrace_production import repository as repo
from looptrace_production import utilisation
from looptrace_production.domain import capacity as cap
from looptrace_shared.db import UnitOfWork

CHUNK = 1000  # plans read and decoded at a time
NOISE = 1e-6  # units: sums of the same shares in another order differ by float rounding


@dataclass(frozen=True)
class Rebuilt:
    plans: int
    corrected: int  # supplier × week × bucket whose load was not what the plans make
    events: int  # capacity events the correction emitted


async def planned_load(session: AsyncSession, chunk: int = CHUNK) -> tuple[cap.Load, int]:
    """The load every stored plan makes, and how many plans there are."""
    total: cap.Load = {}
    plans, after = 0, ""
    while True:
        orders = await repo.all_orders(session, after, chunk)
        for order in orders:
            cap.add(total, order.loading.load(order.load_signature()))
        plans += len(orders)
        if len(orders) < chunk:
            return total, plans
        after = orders[-1].order_id


async def stored_load(session: AsyncSession) -> cap.Load:
    """What the weeks hold: the folded load and the deltas not folded yet."""
    q = text(
        """
        SELECT supplier_id, week, bucket, sum(units) AS units FROM (
            SELECT supplier_id, week, bucket, units FROM production.supplier_load
            UNION ALL
            SELECT supplier_id, week, bucket, units FROM production.load_deltas
        ) AS u GROUP BY 1, 2, 3
        """
    )
    return {(r.supplier_id, r.week, r.bucket): r.units for r in await session.execute(q)}


async def rebuild_load(uow: UnitOfWork, chunk: int = CHUNK) -> Rebuilt:
    """Make the stored load what the plans make (in the caller's transaction)."""
    s = uow.session
    await s.execute(text("LOCK TABLE production.supplier_orders IN SHARE MODE"))
    await s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": utilisation.FOLD_LOCK})
    target, plans = await planned_load(s, chunk)
    difference = cap.delta(await stored_load(s), target)
    correction = {k: v for k, v in difference.items() if abs(v) > NOISE}
    await utilisation.append(s, correction)
    return Rebuilt(plans, len(correction), await utilisation.fold(uow))
