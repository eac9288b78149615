"""An order's facts as events carry them, and its status moves (each recorded in its
history and announced)."""

from __future__ import annotations

from typing import Any, Final

from looptrace_orders.context import OrdersContext, domain_rules
from looptrace_orders.domain import Money, Pricing
from looptrace_orders.models import OrderRow
from looptrace_orders.workflow import (
    WorkflowStatus,
    change_status,
    order_status,
    production_status,
    react,
)
from looptrace_shared.events import orders as ev

STATUS_CHANGED: Final = ev.OrderStatusChanged.EVENT_TYPE

# ---- facts --------------------------------------------------------------------------


def buyer(order: OrderRow) -> ev.Party:
    # stored values were validated when the order was placed: no second e-mail validation
    return ev.Party.model_construct(
        id=order.buyer_id,
        name=order.buyer_name,
        email=order.buyer_email,
        company=order.buyer_company,
    )


def wire_facts(order: OrderRow) -> dict[str, Any]:
    """The order's facts as every order event's JSON carries them (``ev.OrderFacts``)."""
    return {
        "order_id": order.id,
        "order_number": order.order_number,
        "buyer": {
            "id": order.buyer_id,
            "name": order.buyer_name,
            "email": order.buyer_email,
            "company": order.buyer_company,
        },
        "product_category": order.product_category,
        "quantity": order.quantity,
        "target_date": order.target_date,
        "has_print": order.has_print,
    }


def pricing(order: OrderRow) -> Pricing:
    cost = order.supplier_unit_cost
    return Pricing(
        Money.of(order.unit_price, order.currency),
        order.quantity,
        None if cost is None else Money.of(cost, order.currency),
    )


# ---- transitions ------------------------------------------------------------------


def move(
    ctx: OrdersContext, order: OrderRow, to: WorkflowStatus, reason: str | None = None
) -> None:
    current = WorkflowStatus(order.workflow_status)
    with domain_rules():
        change_status(current, to, ctx.cause_name, order.order_number)
    record_move(ctx, order, current, to, reason)


def record_move(
    ctx: OrdersContext,
    order: OrderRow,
    current: WorkflowStatus | None,
    to: WorkflowStatus,
    reason: str | None,
) -> None:
    order.workflow_status = to.value
    ctx.add_history(order, current and current.value, to.value, reason)
    ctx.emit_wire(order.id, STATUS_CHANGED, status_changed(ctx, order, current, to, reason))


def status_changed(
    ctx: OrdersContext,
    order: OrderRow,
    current: WorkflowStatus | None,
    to: WorkflowStatus,
    reason: str | None,
) -> dict[str, Any]:
    """``order.status_changed``'s data, as its contract ``ev.OrderStatusChanged`` dumps it."""
    return {
        "order_id": order.id,
        "order_number": order.order_number,
        "from_status": current and current.value,
        "to_status": to.value,
        "status": order_status(to).value,
        "production_status": production_status(to).value,
        "reason": reason,
        "cause": ctx.cause_name,
    }


def reaction_steps(order: OrderRow, cause: str) -> list[WorkflowStatus]:
    with domain_rules():
        return react(WorkflowStatus(order.workflow_status), cause, order.order_number)


def apply_reaction(
    ctx: OrdersContext, order: OrderRow, cause: str, reason: str | None = None
) -> None:
    for step in reaction_steps(order, cause):
        move(ctx, order, step, reason)


def qc_gate_passed(order: OrderRow) -> bool:
    return order.qc_passed_inspections is not None
