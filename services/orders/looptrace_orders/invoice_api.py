"""HTTP routes of invoices: an order's invoices as the caller may see them, and their status.

A buyer sees its buyer invoices (its price), a supplier its supplier invoices (its cost), admins
both and the realised margin: the same split as the order's commercial fields."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from looptrace_orders import invoicing as uc
from looptrace_orders.archive import archived
from looptrace_orders.context import OrdersContext
from looptrace_orders.domain import Money
from looptrace_orders.invoices import InvoiceKind, InvoiceStatus, total
from looptrace_orders.models import InvoiceRow
from looptrace_orders.views import visible_order
from looptrace_shared.auth import AdminUser, CurrentUser, Principal
from looptrace_shared.events.bounds import Note
from looptrace_shared.http import UowDep
from looptrace_shared.params import IdPath

router = APIRouter(prefix="/v1/orders", tags=["orders"])

InvoiceNumber = Annotated[
    str, Path(pattern=r"^[A-Z]{3}-[0-9]{4}-[0-9]{6}$", description="e.g. INV-2027-000001")
]
#: which invoices each role sees (the README's access table); admins see the margin too
VISIBLE_KINDS = {
    "buyer": {InvoiceKind.BUYER},
    "supplier": {InvoiceKind.SUPPLIER},
    "admin": {InvoiceKind.BUYER, InvoiceKind.SUPPLIER},
}


class InvoiceOut(BaseModel):
    number: str
    kind: str
    status: str
    shipment_id: int
    currency: str
    unit_amount: Decimal
    quantity: int
    amount: Decimal
    created_at: datetime
    issued_at: datetime | None
    paid_at: datetime | None
    voided_at: datetime | None
    void_reason: str | None


class InvoicesOut(BaseModel):
    currency: str
    invoices: list[InvoiceOut]
    invoiced_to_buyer: Decimal | None = Field(description="not void; its buyer and admins")
    invoiced_by_supplier: Decimal | None = Field(description="not void; its supplier and admins")
    realised_margin: Decimal | None = Field(
        description="admins only: buyer minus supplier invoices, void ones left out (null while "
        "a shipment has no supplier invoice because the cost is not known)"
    )


class InvoiceStatusIn(BaseModel):
    status: InvoiceStatus
    reason: Note | None = Field(default=None, description="required to void")


def _sum(invoices: list[InvoiceRow], kind: InvoiceKind, currency: str) -> Decimal:
    live = [i for i in invoices if i.kind == kind and i.status != InvoiceStatus.VOID]
    return total((Money.of(i.amount, i.currency) for i in live), currency).amount


def invoices_out(user: Principal, currency: str, invoices: list[InvoiceRow]) -> InvoicesOut:
    kinds = VISIBLE_KINDS.get(user.role, set())
    sums = {k: _sum(invoices, k, currency) if k in kinds else None for k in InvoiceKind}
    return InvoicesOut(
        currency=currency,
        invoices=[
            InvoiceOut.model_validate(i, from_attributes=True) for i in invoices if i.kind in kinds
        ],
        invoiced_to_buyer=sums[InvoiceKind.BUYER],
        invoiced_by_supplier=sums[InvoiceKind.SUPPLIER],
        realised_margin=None,
    )


@router.get("/{order_ref}/invoices")
async def list_invoices(order_ref: IdPath, uow: UowDep, user: CurrentUser) -> InvoicesOut:
    """The order's invoices the caller may see (one pair per shipment), with their totals."""
    order = await visible_order(uow, user, order_ref)
    invoices = await uc.invoices_of(uow.session, order.id, archived(order))
    out = invoices_out(user, order.currency, invoices)
    if user.is_admin:
        out.realised_margin = uc.margin_of(order, invoices)
    return out


@router.post("/{order_ref}/invoices/{number}/status")
async def change_invoice_status(
    order_ref: IdPath, number: InvoiceNumber, body: InvoiceStatusIn, uow: UowDep, user: AdminUser
) -> InvoiceOut:
    """Issue, mark paid or void an invoice (draft → issued → paid; draft or issued → void)."""
    order = await visible_order(uow, user, order_ref)
    ctx = OrdersContext(uow, actor=f"{user.role}:{user.subject}")
    ctx.remember(order)
    row = await uc.change_status(ctx, order, number, body.status, body.reason)
    await uow.commit()
    return InvoiceOut.model_validate(row, from_attributes=True)
