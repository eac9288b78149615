"""How the orders API shows an order, and to whom: the order as a caller may see it, who may
see or change it, and its version as an ETag."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from fastapi import Header, Response
from pydantic import BaseModel, Field

from looptrace_orders import repository as repo
from looptrace_orders.models import OrderRow
from looptrace_orders.transitions import buyer, pricing, qc_gate_passed
from looptrace_orders.workflow import WorkflowStatus, order_status, production_status
from looptrace_shared.auth import Principal
from looptrace_shared.errors import Forbidden, NotFound, RuleViolation
from looptrace_shared.events import orders as ev
from looptrace_shared.http import UowDep


class OrderOut(BaseModel):
    id: str
    order_number: str
    buyer: ev.Party
    product_type: str
    product_category: str
    style: str | None
    quantity: int
    currency: str
    unit_price: Decimal | None = Field(description="the buyer's price: its buyer and admins")
    total_price: Decimal | None = Field(description="its buyer and admins")
    supplier_unit_cost: Decimal | None = Field(
        description="the supplier's cost: its supplier and admins"
    )
    margin: Decimal | None = Field(description="admins only")
    margin_percent: Decimal | None = Field(description="admins only")
    target_date: date
    expected_delivery_date: date | None
    actual_delivery_date: date | None
    supplier: ev.Party | None
    assigned_at: datetime | None
    assigned_by: str | None
    quote_id: str | None
    workflow_status: str
    status: str
    production_status: str
    qc_gate_passed: bool = Field(description="every inspection passed: the goods may ship")
    version: int
    created_at: datetime
    updated_at: datetime


COMMERCIAL = {
    "buyer": {"unit_price", "total_price"},
    "supplier": {"supplier_unit_cost"},
    "admin": {"unit_price", "total_price", "supplier_unit_cost", "margin", "margin_percent"},
}


def order_out(o: OrderRow, user: Principal) -> OrderOut:
    """The order as ``user`` may see it: a buyer its price, a supplier its cost, admins all."""
    out = _order_out(o)
    hidden = COMMERCIAL["admin"] - COMMERCIAL.get(user.role, set())
    return out.model_copy(update=dict.fromkeys(hidden))


def _order_out(o: OrderRow) -> OrderOut:
    p = pricing(o)
    supplier = (
        ev.Party(id=o.supplier_id, name=o.supplier_name or o.supplier_id, email=o.supplier_email)
        if o.supplier_id
        else None
    )
    wf = WorkflowStatus(o.workflow_status)
    return OrderOut(
        id=o.id,
        order_number=o.order_number,
        buyer=buyer(o),
        product_type=o.product_type,
        product_category=o.product_category,
        style=o.style,
        quantity=o.quantity,
        currency=o.currency,
        unit_price=o.unit_price,
        total_price=p.total.amount,
        supplier_unit_cost=o.supplier_unit_cost,
        margin=p.margin.amount if p.margin else None,
        margin_percent=p.margin_percent,
        target_date=o.target_date,
        expected_delivery_date=o.expected_delivery_date,
        actual_delivery_date=o.actual_delivery_date,
        supplier=supplier,
        assigned_at=o.assigned_at,
        assigned_by=o.assigned_by,
        quote_id=o.quote_id,
        workflow_status=o.workflow_status,
        status=order_status(wf).value,
        production_status=production_status(wf).value,
        qc_gate_passed=qc_gate_passed(o),
        version=o.version,
        created_at=o.created_at,
        updated_at=o.updated_at,
    )


def can_see(user: Principal, o: OrderRow) -> bool:
    return (
        user.is_admin
        or (user.role == "buyer" and o.buyer_id == user.subject)
        or (user.role == "supplier" and o.supplier_id == user.subject)
    )


async def visible_order(uow: UowDep, user: Principal, id_or_number: str) -> OrderRow:
    order = await repo.find_order(uow.session, id_or_number)
    if order is None or not can_see(user, order):
        raise NotFound(f"no order {id_or_number!r} visible to you")
    return order


def may_act(user: Principal, order: OrderRow) -> None:
    if not (user.is_admin or (user.role == "buyer" and order.buyer_id == user.subject)):
        raise Forbidden(
            "only the order's buyer or an admin may change it; suppliers have read-only access"
        )


def etag(response: Response, order: OrderRow, user: Principal) -> OrderOut:
    response.headers["ETag"] = f'"{order.version}"'
    return order_out(order, user)


def parse_if_match(value: str | None) -> int | None:
    if value is None:
        return None
    raw = value.strip().removeprefix("W/").strip('"')
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 9):
        raise RuleViolation(
            f"If-Match must be the order's version as an ETag, e.g. '\"3\"'; got {value[:40]!r}"
        )
    try:
        return int(raw)
    except ValueError:
        raise RuleViolation(
            f"If-Match must be the order's version as an ETag, e.g. '\"3\"'; got {value!r}"
        ) from None


IfMatch = Annotated[str | None, Header(alias="If-Match", max_length=64)]
