"""Assignments production would warn of (not refuse): the supplier lacks the category, is
suspended, has an expired certification, is below its MOQ, or would go over its capacity.

The warnings are stored with the assignment (``assignment_warnings``) and published as
``production.assignment_warned``: orders writes them into the order's history, notifications
tells the admin who assigned. Load is what is stored when the assignment arrives (orders
assigned in the same batch do not see each other's load).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from looptrace_production import suppliers as store
from looptrace_production import utilisation
from looptrace_production.domain import SupplierOrder
from looptrace_production.domain.candidates import Standing, assignment_warnings, week_loads
from looptrace_production.models import AssignmentWarningRow
from looptrace_production.services import ProductionContext
from looptrace_shared.events.suppliers import AssignmentWarned


async def standing(ctx: ProductionContext, order: SupplierOrder) -> Standing:
    supplier = await store.get(ctx.uow.session, order.supplier_id)
    if supplier is None:
        return Standing(False, False, None, ())
    today = ctx.planning.now().date()
    capability = supplier.category(order.product_category)
    expired = [(c.name, c.expires_on) for c in supplier.profile.certifications
               if c.expires_on < today]  # fmt: skip
    return Standing(True, supplier.active, capability.moq if capability else None, expired)


async def check_assignment(ctx: ProductionContext, order: SupplierOrder, by: str) -> list[str]:
    """The assignment's warnings; stored and published when there are any."""
    s = ctx.uow.session
    added = order.load_shape().load(order.load_signature())
    weeks = [k[1] for k in added]
    existing = (
        await utilisation.weeks_of(s, [order.supplier_id], min(weeks), max(weeks)) if weeks else {}
    )
    caps = await utilisation.capacities(s, [order.supplier_id])
    loads = week_loads(added, existing, {b: rows for (_, b), rows in caps.items()})
    warnings = assignment_warnings(
        order.supplier_id, order.product_category, order.quantity, await standing(ctx, order), loads
    )
    if warnings:
        s.add(AssignmentWarningRow(order_id=order.order_id, supplier_id=order.supplier_id,
                                   assigned_by=by, warnings=warnings))  # fmt: skip
        ctx.emit(order.order_id, AssignmentWarned(
            order_id=order.order_id, order_number=order.order_number,
            supplier_id=order.supplier_id, assigned_by=by, warnings=warnings,
        ))  # fmt: skip
    return warnings


async def warnings_of(session: AsyncSession, order_id: str) -> list[AssignmentWarningRow]:
    q = (
        select(AssignmentWarningRow)
        .where(AssignmentWarningRow.order_id == order_id)
        .order_by(AssignmentWarningRow.id)
    )
    return list(await session.scalars(q))
