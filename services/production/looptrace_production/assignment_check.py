"""Assignments production would warn of (not refuse): the supplier lacks the category, is
suspended, has an expired certification, is below its MOQ, or would go over its capacity.

The warnings are stored with the assignment (``assignment_warnings``) and published as
``production.assignment_warned``: orders writes them into the order's history, notifications
tells the admin who assigned. Load is what is stored when the assignment arrives (orders
assigned in the same batch do not see each other's load).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from looptrace_production import suppliers as store
from looptrace_production import utilisation
from looptrace_production.domain import SupplierOrder
from looptrace_production.domain.candidates import Standing, assignment_warnings, week_loads
from looptrace_production.models import AssignmentWarningRow
from looptrace_production.retention import readable
from looptrace_production.services import ProductionContext
from looptrace_production.suppliers import Supplier
from looptrace_shared.events.suppliers import AssignmentWarned


def standing(supplier: Supplier | None, order: SupplierOrder, today: date) -> Standing:
    if supplier is None:
        return Standing(False, False, None, (), profiled=False)
    capability = supplier.category(order.product_category)
    expired = [(c.name, c.expires_on) for c in supplier.profile.certifications
               if c.expires_on < today]  # fmt: skip
    profiled = bool(supplier.profile.categories or supplier.profile.processes)
    moq = capability.moq if capability else None
    return Standing(True, supplier.active, moq, expired, profiled)


async def check_assignments(ctx: ProductionContext) -> int:
    """Warn of the batch's assignments (``ctx.assigned``), four queries for all of them;
    suppliers production had no record of are recorded with their names. Returns warnings."""
    pending, ctx.assigned = ctx.assigned, []
    if not pending:
        return 0
    s = ctx.uow.session
    await store.register(s, {o.supplier_id: o.supplier_name for o, _ in pending})
    ids = sorted({o.supplier_id for o, _ in pending})
    suppliers = await store.get_many(s, ids)
    added = [(o, by, o.loading.load(o.load_signature())) for o, by in pending]
    weeks = [k[1] for _, _, load in added for k in load]
    existing = await utilisation.weeks_of(s, ids, min(weeks), max(weeks)) if weeks else {}
    caps = await utilisation.capacities(s, ids)
    today, warned = ctx.planning.now().date(), 0
    for order, by, load in added:
        mine = caps.get(order.supplier_id, {})
        found = suppliers.get(order.supplier_id)
        warnings = assignment_warnings(
            order.supplier_id, order.product_category, order.quantity,
            standing(found, order, today), week_loads(load, existing, mine),
        )  # fmt: skip
        if warnings:
            warned += 1
            _warn(ctx, order, by, warnings)
    return warned


def _warn(ctx: ProductionContext, order: SupplierOrder, by: str, warnings: list[str]) -> None:
    ctx.uow.session.add(
        AssignmentWarningRow(
            order_id=order.order_id,
            supplier_id=order.supplier_id,
            assigned_by=by,
            warnings=warnings,
        )  # fmt: skip
    )
    ctx.emit(order.order_id, AssignmentWarned(
        order_id=order.order_id, order_number=order.order_number,
        supplier_id=order.supplier_id, assigned_by=by, warnings=warnings,
    ))  # fmt: skip


async def warnings_of(session: AsyncSession, order_id: str) -> list[AssignmentWarningRow]:
    """What the order's assignments were warned of, live and archived (retention)."""
    w = readable(AssignmentWarningRow)
    q = select(w).where(w.order_id == order_id).order_by(w.id)
    return list(await session.scalars(q))
