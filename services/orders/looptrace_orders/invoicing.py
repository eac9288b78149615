"""Use cases of invoices: drafted with each shipment, numbered per series, moved through their
status by admins; the realised margin of an order (HTTP and Kafka alike)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from looptrace_orders.archive import archived_children
from looptrace_orders.context import OrdersContext
from looptrace_orders.domain import Money
from looptrace_orders.invoices import (
    InvalidInvoiceTransition,
    InvoiceKind,
    InvoiceStatus,
    VoidWithoutReason,
    change_invoice_status,
    invoice_amount,
    invoice_number,
    realised_margin,
    series_of,
)
from looptrace_orders.models import InvoiceRow, InvoiceSeriesRow, OrderRow, ShipmentRow
from looptrace_shared.errors import NotFound, as_rule_violation
from looptrace_shared.events import orders as ev

_STAMP = {
    InvoiceStatus.ISSUED: "issued_at",
    InvoiceStatus.PAID: "paid_at",
    InvoiceStatus.VOID: "voided_at",
}


async def next_number(session: AsyncSession, series: str) -> int:
    """The series' next number. The counter row stays locked until the transaction ends, so
    numbers are gapless: a rolled-back invoice gives its number back."""
    stmt = (
        insert(InvoiceSeriesRow)
        .values(series=series, last_number=1)
        .on_conflict_do_update(
            index_elements=["series"], set_={"last_number": InvoiceSeriesRow.last_number + 1}
        )
        .returning(InvoiceSeriesRow.last_number)
    )
    return int((await session.execute(stmt)).scalar_one())


async def draft_invoices(ctx: OrdersContext, order: OrderRow, shipment: ShipmentRow) -> None:
    """The shipment's buyer invoice (price × pieces) and, when the cost is known, the
    supplier's (cost × pieces), as drafts."""
    units = {InvoiceKind.BUYER: order.unit_price, InvoiceKind.SUPPLIER: order.supplier_unit_cost}
    now = datetime.now(UTC)
    for kind, unit in units.items():
        if unit is None:
            continue
        series = series_of(kind, now.year)
        number = invoice_number(series, await next_number(ctx.uow.session, series))
        amount = invoice_amount(Money.of(unit, order.currency), shipment.quantity)
        row = InvoiceRow(
            number=number, order_id=order.id, shipment_id=shipment.id, kind=kind.value,
            status=InvoiceStatus.DRAFT.value, currency=order.currency, unit_amount=unit,
            quantity=shipment.quantity, amount=amount.amount, created_at=now,
        )  # fmt: skip
        ctx.uow.session.add(row)
        _announce(ctx, order, row, None)


async def invoices_of(
    session: AsyncSession, order_id: str, archived: bool = False
) -> list[InvoiceRow]:
    if archived:
        return await archived_children(session, "invoices", order_id)
    q = select(InvoiceRow).where(InvoiceRow.order_id == order_id).order_by(InvoiceRow.id)
    return list(await session.scalars(q))


async def change_status(
    ctx: OrdersContext, order: OrderRow, number: str, to: InvoiceStatus, reason: str | None
) -> InvoiceRow:
    row = next(
        (i for i in await invoices_of(ctx.uow.session, order.id) if i.number == number), None
    )
    if row is None:
        raise NotFound(f"order {order.order_number} has no invoice {number!r}")
    previous = InvoiceStatus(row.status)
    try:
        change_invoice_status(number, previous, to, reason)
    except InvalidInvoiceTransition as err:  # a conflict with the invoice's state: 409
        raise as_rule_violation(err, 409) from err
    except VoidWithoutReason as err:
        raise as_rule_violation(err, 422) from err
    row.status = to.value
    setattr(row, _STAMP[to], datetime.now(UTC))
    if to is InvoiceStatus.VOID:
        row.void_reason = reason
    _announce(ctx, order, row, previous)
    return row


def margin_of(order: OrderRow, invoices: list[InvoiceRow]) -> Decimal | None:
    """Buyer invoices minus supplier invoices, void ones left out; None while a shipment has no
    supplier invoice (the cost is not known)."""
    live = [i for i in invoices if i.status != InvoiceStatus.VOID]
    kinds = {kind: [i for i in live if i.kind == kind] for kind in InvoiceKind}
    if {i.shipment_id for i in kinds[InvoiceKind.BUYER]} - {
        i.shipment_id for i in kinds[InvoiceKind.SUPPLIER]
    }:
        return None
    amounts = {k: [Money.of(i.amount, i.currency) for i in v] for k, v in kinds.items()}
    return realised_margin(
        amounts[InvoiceKind.BUYER], amounts[InvoiceKind.SUPPLIER], order.currency
    ).amount


def _announce(
    ctx: OrdersContext, order: OrderRow, row: InvoiceRow, previous: InvoiceStatus | None
) -> None:
    """Status only: amounts stay off the topic (a buyer's system may receive its events)."""
    ctx.emit(
        order.id,
        ev.OrderInvoiceStatusChanged(
            order_id=order.id,
            order_number=order.order_number,
            invoice_number=row.number,
            kind=row.kind,
            status=row.status,
            previous_status=previous and previous.value,
        ),
    )
