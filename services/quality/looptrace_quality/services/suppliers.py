"""Use cases of a supplier's quality record: its severity, and resuming a discontinued one."""

from __future__ import annotations

from looptrace_quality import repository as repo
from looptrace_quality.services.context import QualityContext
from looptrace_quality.services.outcomes import severity_events
from looptrace_quality.switching import SupplierSeverity
from looptrace_shared.errors import Conflict


async def resume_supplier(ctx: QualityContext, supplier_id: str, reason: str) -> SupplierSeverity:
    """Corrective action taken: inspection of a discontinued supplier resumes on tightened."""
    stored = await repo.supplier_state(ctx.uow.session, supplier_id)
    state = SupplierSeverity.from_dict(stored.state) if stored else SupplierSeverity()
    order_id = await repo.latest_order_of_supplier(ctx.uow.session, supplier_id)
    if not state.discontinued or order_id is None:
        raise Conflict(
            f"inspection of supplier {supplier_id} is not discontinued (it is on "
            f"{state.severity.value} inspection); only a discontinued supplier is resumed"
        )
    transitions = state.resume()
    await repo.save_supplier_state(ctx.uow.session, supplier_id, state.to_dict(), stored)
    why = f"corrective action: {reason.strip()} (resumed by {ctx.actor})"
    for event in severity_events(order_id, supplier_id, transitions, why):
        ctx.emit(order_id, event)
    return state
