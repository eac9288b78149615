"""Use cases of the orders service. The same functions serve Kafka handlers and HTTP routes."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from looptrace_orders import repository as repo
from looptrace_orders.domain import Money, Pricing, Shipment, check_shipments
from looptrace_orders.models import OrderRow, QuoteRow, ShipmentRow, StatusHistoryRow
from looptrace_orders.order_dates import TargetWindow
from looptrace_orders.workflow import (
    InvalidTransition,
    OrderRuleViolation,
    QcGateClosed,
    ShipmentNotAllowed,
    WorkflowStatus,
    change_status,
    check_shipment,
    order_status,
    production_status,
    react,
)
from looptrace_shared.errors import Conflict, StaleVersion, WaitingFor, as_rule_violation
from looptrace_shared.events import orders as ev
from looptrace_shared.messaging.dispatch import Context

SOURCE = "orders"


@contextmanager
def domain_rules() -> Iterator[None]:
    """Domain refusals become rule violations (HTTP 409/422, or a dead letter)."""
    try:
        yield
    except (InvalidTransition, ShipmentNotAllowed, QcGateClosed) as err:
        raise as_rule_violation(err, 409) from err
    except OrderRuleViolation as err:
        raise as_rule_violation(err, 422) from err


class DuplicateOrderNumber(Conflict):
    rule = "duplicate_order_number"


class ReferenceInUse(Conflict):
    rule = "order_reference_in_use"


@dataclass
class OrdersContext(Context):
    """One batch (or one request): the unit of work and the orders loaded for it."""

    SOURCE = SOURCE

    orders: dict[str, OrderRow] = field(default_factory=dict)
    by_number: dict[str, OrderRow] = field(default_factory=dict)
    actor: str = "system"
    preloaded: bool = False
    target_window: TargetWindow = field(default_factory=TargetWindow)

    async def preload(self, ids: Sequence[str], numbers: Sequence[str] = ()) -> None:
        """Load every order a batch names (by id or order number) in one query; after this
        the batch looks nothing up one by one (a miss means: not there)."""
        for order in await repo.load_orders(self.uow.session, ids, numbers):
            self.remember(order)
        self.preloaded = True

    def remember(self, order: OrderRow) -> None:
        self.orders[order.id] = order
        self.by_number[order.order_number] = order

    async def lookup(self, order_id: str) -> OrderRow | None:
        if order_id in self.orders or self.preloaded:
            return self.orders.get(order_id)
        order = await repo.find_order(self.uow.session, order_id)
        if order is not None:
            self.remember(order)
        return order

    async def get(self, order_id: str) -> OrderRow:
        order = await self.lookup(order_id)
        if order is None:
            raise WaitingFor(f"order {order_id} is not known yet")
        return order

    async def using(self, refs: Sequence[str]) -> list[OrderRow]:
        """The orders whose id or order number is one of ``refs``."""
        if not self.preloaded:
            for order in await repo.load_orders(self.uow.session, refs):
                self.remember(order)
        found = [o for r in refs for o in (self.orders.get(r), self.by_number.get(r)) if o]
        return list({o.id: o for o in found}.values())

    async def with_number(self, number: str) -> OrderRow | None:
        if number in self.by_number or self.preloaded:
            return self.by_number.get(number)
        return await repo.order_by_number(self.uow.session, number)

    @property
    def cause_name(self) -> str:
        return f"event:{self.cause.type}:{self.cause.id}" if self.cause else f"http:{self.actor}"


# ---- facts --------------------------------------------------------------------------


def buyer(order: OrderRow) -> ev.Party:
    # stored values were validated when the order was placed: no second e-mail validation
    return ev.Party.model_construct(
        id=order.buyer_id,
        name=order.buyer_name,
        email=order.buyer_email,
        company=order.buyer_company,
    )


def facts(order: OrderRow) -> dict[str, object]:
    return {
        "order_id": order.id,
        "order_number": order.order_number,
        "buyer": buyer(order),
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
    ctx.uow.session.add(
        StatusHistoryRow(
            order_id=order.id,
            from_status=current and current.value,
            to_status=to.value,
            cause=ctx.cause_name[:200],
            reason=reason,
            at=datetime.now(UTC),
        )
    )
    ctx.emit(
        order.id,
        ev.OrderStatusChanged(
            order_id=order.id,
            order_number=order.order_number,
            from_status=current and current.value,
            to_status=to.value,
            status=order_status(to).value,
            production_status=production_status(to).value,
            reason=reason,
            cause=ctx.cause_name,
        ),
    )


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


# ---- use cases ----------------------------------------------------------------------


def _same_order(order: OrderRow, cmd: ev.OrderPlaced) -> list[str]:
    pairs = {
        "order_id": (order.id, cmd.order_id),
        "order_number": (order.order_number, cmd.order_number),
        "buyer.id": (order.buyer_id, cmd.buyer.id),
        "quantity": (order.quantity, cmd.quantity),
        "currency": (order.currency, cmd.currency.upper()),
        "unit_price": (Decimal(order.unit_price), cmd.unit_price),
        "target_date": (order.target_date, cmd.target_date),
        "product_category": (order.product_category, cmd.product_category),
    }
    return [name for name, (a, b) in pairs.items() if a != b]


def _clash(using: list[OrderRow], cmd: ev.OrderPlaced, differing: list[str]) -> Conflict:
    """The buyer's own order: say what differs. Anyone else's: the same answer as for any
    taken reference, with nothing of the other order in it."""
    if len(using) == 1 and using[0].buyer_id == cmd.buyer.id and using[0].id == cmd.order_id:
        return DuplicateOrderNumber(
            f"order {cmd.order_id} already exists with different content "
            f"(differs in: {', '.join(differing)}); use a new order id and number, or update "
            "the order"
        )
    return ReferenceInUse(
        f"order id {cmd.order_id!r} or order number {cmd.order_number!r} is already in use "
        "(order ids and order numbers share one namespace); choose another"
    )


async def place_order(ctx: OrdersContext, cmd: ev.OrderPlaced) -> OrderRow:
    using = await ctx.using([cmd.order_id, cmd.order_number])
    if using:
        differing = _same_order(using[0], cmd) if len(using) == 1 else ["order_id"]
        if not differing:
            return using[0]  # the same order again: nothing to do
        raise _clash(using, cmd, differing)
    with domain_rules():
        ctx.target_window.check(cmd.target_date, datetime.now(UTC).date())
        Pricing(
            Money.of(cmd.unit_price, cmd.currency),
            cmd.quantity,
            None if cmd.supplier_cost is None else Money.of(cmd.supplier_cost, cmd.currency),
        )
    order = OrderRow(
        id=cmd.order_id,
        order_number=cmd.order_number,
        buyer_id=cmd.buyer.id,
        buyer_name=cmd.buyer.name,
        buyer_email=cmd.buyer.email,
        buyer_company=cmd.buyer.company,
        product_type=cmd.product_type,
        product_category=cmd.product_category,
        style=cmd.style,
        quantity=cmd.quantity,
        currency=cmd.currency.upper(),
        unit_price=cmd.unit_price,
        supplier_unit_cost=cmd.supplier_cost,
        target_date=cmd.target_date,
        expected_delivery_date=cmd.expected_delivery_date,
        has_print=cmd.has_print,
        quote_id=cmd.quote_id,
        notes=cmd.notes,
        workflow_status=WorkflowStatus.PLACED.value,
    )
    ctx.uow.session.add(order)
    ctx.remember(order)
    record_move(ctx, order, None, WorkflowStatus.PLACED, "firm order placed")
    ctx.emit(
        order.id,
        ev.OrderCreated(
            **facts(order),
            workflow_status=order.workflow_status,
            currency=order.currency,
            unit_price=order.unit_price,
        ),
    )
    return order


async def assign_supplier(
    ctx: OrdersContext, order_id: str, supplier: ev.Party, assigned_by: str
) -> OrderRow:
    order = await ctx.get(order_id)
    if order.supplier_id == supplier.id and order.workflow_status != WorkflowStatus.QUOTE_ACCEPTED:
        return order  # the same assignment again
    reassigned = order.supplier_id is not None
    move(
        ctx,
        order,
        WorkflowStatus.ASSIGNED_TO_SUPPLIER,
        f"supplier {supplier.id} assigned by {assigned_by}",
    )
    order.supplier_id, order.supplier_name = supplier.id, supplier.name
    order.supplier_email = supplier.email
    order.assigned_at, order.assigned_by = datetime.now(UTC), assigned_by
    ctx.emit(
        order.id,
        ev.OrderSupplierAssigned(
            **facts(order), supplier=supplier, assigned_by=assigned_by, reassigned=reassigned
        ),
    )
    return order


async def record_shipment(ctx: OrdersContext, cmd: ev.OrderShipped) -> OrderRow:
    order = await ctx.get(cmd.order_id)
    with domain_rules():  # goods exist and passed the QC gate, before anything is written
        check_shipment(
            WorkflowStatus(order.workflow_status), qc_gate_passed(order), order.order_number
        )
    already = await repo.shipped_total(ctx.uow.session, order.id)
    shipments = (
        [Shipment(already), Shipment(cmd.quantity_shipped)]
        if already
        else [Shipment(cmd.quantity_shipped)]
    )
    with domain_rules():
        total = check_shipments(order.quantity, shipments)
    full = total >= order.quantity
    if full:
        reaction_steps(order, "OrderShipped")  # refuse before anything is written
    ctx.uow.session.add(
        ShipmentRow(
            order_id=order.id,
            carrier=cmd.carrier,
            tracking_number=cmd.tracking_number,
            quantity=cmd.quantity_shipped,
            shipped_at=cmd.shipped_at,
            estimated_arrival=cmd.estimated_arrival,
        )
    )
    ctx.emit(
        order.id,
        ev.OrderShipmentRecorded(
            order_id=order.id,
            order_number=order.order_number,
            carrier=cmd.carrier,
            tracking_number=cmd.tracking_number,
            quantity_shipped=cmd.quantity_shipped,
            total_shipped=total,
            fully_shipped=full,
        ),
    )
    if full:
        apply_reaction(
            ctx, order, "OrderShipped", f"{total} of {order.quantity} shipped via {cmd.carrier}"
        )
    return order


async def confirm_delivery(ctx: OrdersContext, order_id: str, delivered_at: datetime) -> OrderRow:
    order = await ctx.get(order_id)
    apply_reaction(ctx, order, "DeliveryConfirmed", "delivery confirmed")
    order.actual_delivery_date = delivered_at.date()
    return order


async def cancel(ctx: OrdersContext, order_id: str, reason: str) -> OrderRow:
    order = await ctx.get(order_id)
    apply_reaction(ctx, order, "OrderCancelled", reason)
    return order


async def request_quote(ctx: OrdersContext, cmd: ev.QuoteRequested) -> None:
    if await ctx.lookup(cmd.order_id):
        return
    order = OrderRow(
        id=cmd.order_id,
        order_number=cmd.order_id,
        buyer_id=cmd.buyer.id,
        buyer_name=cmd.buyer.name,
        buyer_email=cmd.buyer.email,
        buyer_company=cmd.buyer.company,
        product_type=cmd.product_category,
        product_category=cmd.product_category,
        quantity=cmd.quantity,
        currency="USD",
        unit_price=Decimal(0),
        target_date=datetime.now(UTC).date(),
        workflow_status=WorkflowStatus.QUOTE_REQUESTED.value,
        quote_id=cmd.quote_id,
    )
    ctx.uow.session.add(order)
    ctx.uow.session.add(
        QuoteRow(
            id=cmd.quote_id,
            order_id=cmd.order_id,
            items=cmd.items,
            quantity=cmd.quantity,
            status="requested",
        )
    )
    ctx.remember(order)
    record_move(ctx, order, None, WorkflowStatus.QUOTE_REQUESTED, "quote requested")


async def provide_quote(ctx: OrdersContext, cmd: ev.QuoteProvided) -> None:
    order = await ctx.get(cmd.order_id)
    with domain_rules():
        Money.of(cmd.price_offered, cmd.currency)
    move(ctx, order, WorkflowStatus.QUOTE_PROVIDED, f"quote {cmd.quote_id} provided")
    order.currency, order.unit_price = cmd.currency.upper(), cmd.price_offered
    quote = await ctx.uow.session.get(QuoteRow, cmd.quote_id)
    if quote:
        quote.currency, quote.price_offered, quote.valid_until = (
            cmd.currency.upper(),
            cmd.price_offered,
            cmd.valid_until,
        )
        quote.status = "provided"


async def accept_quote(ctx: OrdersContext, cmd: ev.QuoteAccepted) -> None:
    order = await ctx.get(cmd.order_id)
    move(ctx, order, WorkflowStatus.QUOTE_ACCEPTED, f"quote {cmd.quote_id} accepted")
    quote = await ctx.uow.session.get(QuoteRow, cmd.quote_id)
    if quote:
        quote.status = "accepted"


def check_version(order: OrderRow, if_match: int | None) -> None:
    if if_match is not None and order.version != if_match:
        raise StaleVersion(
            f"order {order.order_number} is at version {order.version}, not {if_match}; "
            "reload it and retry with the current ETag"
        )
