"""HTTP schemas and routes of the orders service."""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import BaseModel, Field

from looptrace_orders import repository as repo
from looptrace_orders import services as uc
from looptrace_orders.models import OrderRow
from looptrace_orders.services import OrdersContext
from looptrace_orders.workflow import WorkflowStatus, order_status, production_status
from looptrace_shared.auth import AdminUser, CurrentUser, Principal, Roles
from looptrace_shared.errors import Forbidden, NotFound, RuleViolation
from looptrace_shared.events import orders as ev
from looptrace_shared.events.bounds import Code, Day, Id, Moment, Note, Quantity, check_id
from looptrace_shared.http import UowDep
from looptrace_shared.params import CursorQuery, IdPath, IdQuery

router = APIRouter(prefix="/v1/orders", tags=["orders"])


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
    p = uc.pricing(o)
    supplier = (
        ev.Party(id=o.supplier_id, name=o.supplier_name or o.supplier_id, email=o.supplier_email)
        if o.supplier_id
        else None
    )
    wf = WorkflowStatus(o.workflow_status)
    return OrderOut(
        id=o.id,
        order_number=o.order_number,
        buyer=uc.buyer(o),
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


class SupplierCostNotYours(Forbidden):
    rule = "buyer_may_not_set_supplier_cost"


@router.post("", status_code=201)
async def create_order(
    cmd: ev.OrderPlaced, uow: UowDep, user: Roles("buyer"), response: Response, request: Request
) -> OrderOut:
    if user.role == "buyer" and cmd.buyer.id != user.subject:
        raise Forbidden(
            f"a buyer may only place orders for themselves (buyer.id must be {user.subject!r})"
        )
    if user.role == "buyer" and cmd.supplier_cost is not None:
        raise SupplierCostNotYours(
            "supplier_cost: a buyer may not set the supplier's cost; leave it out"
        )
    window = request.app.state.runtime.settings.target_window
    ctx = OrdersContext(uow, actor=user.subject, target_window=window)
    order = await uc.place_order(ctx, cmd)
    await uow.commit()
    return etag(response, order, user)


@router.get("/summary")
async def summary(uow: UowDep, user: CurrentUser) -> dict[str, int]:
    counts = await repo.summary(uow.session, scope(user, repo.OrderFilter()))
    in_production = sum(counts.get(s, 0) for s in ("in_production", "delayed", "quality_check"))
    return {
        "total": sum(counts.values()),
        "in_production": in_production,
        "completed": counts.get("completed", 0),
        "delayed": counts.get("delayed", 0),
    }


def scope(user: Principal, f: repo.OrderFilter) -> repo.OrderFilter:
    """Narrow a filter to what ``user`` may see (the subject is never empty: see Principal)."""
    if not user.subject:
        raise Forbidden("a caller without a subject sees nothing")
    if user.role == "buyer":
        f.buyer_id = user.subject
    elif user.role == "supplier":
        f.supplier_id = user.subject
    elif not user.is_admin:
        raise Forbidden(f"role {user.role!r} cannot list orders")
    return f


class OrderPage(BaseModel):
    items: list[OrderOut]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page")


def _cursor(o: OrderRow, sort: repo.OrderSort) -> str:
    value = repo.sort_value(o, sort)
    raw = [sort.value, value.isoformat() if hasattr(value, "isoformat") else value, o.id]
    return base64.urlsafe_b64encode(json.dumps(raw).encode()).decode()


def _after(cursor: str | None, sort: repo.OrderSort) -> tuple[Any, str] | None:
    if not cursor:
        return None
    try:
        key, value, oid = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if key != sort.value:
            raise RuleViolation(
                f"this cursor was made for sort={key!r}; keep the same sort while paging"
            )
        return _cursor_value(sort, value), check_id(oid)
    except (ValueError, TypeError, AttributeError, UnicodeError, OverflowError):
        raise RuleViolation(
            "cursor is not valid; use the next_cursor of the previous page"
        ) from None


def _cursor_value(sort: repo.OrderSort, value: Any) -> Any:
    column = sort.value.lstrip("-")
    if column == "created_at":
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValueError("naive")
        return moment
    if column == "target_date":
        return date.fromisoformat(value)
    return check_id(value)


@router.get("")
async def list_orders(
    uow: UowDep,
    user: CurrentUser,
    status: Annotated[
        list[WorkflowStatus] | None, Query(description="workflow status (repeatable)")
    ] = None,
    supplier_id: IdQuery = None,
    buyer_id: IdQuery = None,
    target_from: date | None = None,
    target_to: date | None = None,
    delayed_only: bool = False,
    number_prefix: Annotated[
        str | None,
        Query(
            description="order number starts with", max_length=64, pattern=r"^[A-Za-z0-9._@+-]*$"
        ),
    ] = None,
    sort: repo.OrderSort = repo.OrderSort.NEWEST,
    cursor: CursorQuery = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> OrderPage:
    f = scope(
        user,
        repo.OrderFilter(
            [s.value for s in status] if status else None,
            supplier_id,
            buyer_id,
            target_from,
            target_to,
            delayed_only,
            number_prefix,
        ),
    )
    rows = await repo.page(uow.session, f, sort, _after(cursor, sort), limit)
    nxt = _cursor(rows[-1], sort) if len(rows) == limit else None
    return OrderPage(items=[order_out(o, user) for o in rows], next_cursor=nxt)


@router.get("/{order_ref}")
async def get_order(
    order_ref: IdPath, uow: UowDep, user: CurrentUser, response: Response
) -> OrderOut:
    return etag(response, await visible_order(uow, user, order_ref), user)


class HistoryOut(BaseModel):
    from_status: str | None
    to_status: str
    at: datetime
    cause: str
    reason: str | None


@router.get("/{order_ref}/history")
async def status_history(order_ref: IdPath, uow: UowDep, user: CurrentUser) -> list[HistoryOut]:
    order = await visible_order(uow, user, order_ref)
    return [
        HistoryOut.model_validate(h, from_attributes=True)
        for h in await repo.history(uow.session, order.id)
    ]


class AssignIn(BaseModel):
    """Admins (or upstream systems) give an order its supplier."""

    supplier: ev.Party


async def _change(
    uow: UowDep, user: Principal, order_ref: IdPath, if_match: str | None
) -> tuple[OrdersContext, OrderRow]:
    order = await visible_order(uow, user, order_ref)
    may_act(user, order)
    uc.check_version(order, parse_if_match(if_match))
    ctx = OrdersContext(uow, actor=f"{user.role}:{user.subject}")
    ctx.remember(order)
    return ctx, order


@router.post("/{order_ref}/assign")
async def assign(
    order_ref: IdPath,
    body: AssignIn,
    uow: UowDep,
    user: AdminUser,
    response: Response,
    if_match: IfMatch = None,
) -> OrderOut:
    ctx, order = await _change(uow, user, order_ref, if_match)
    await uc.assign_supplier(ctx, order.id, body.supplier, f"{user.role}:{user.subject}")
    await uow.commit()
    return etag(response, order, user)


class CancelIn(BaseModel):
    reason: Note = Field(min_length=1)


@router.post("/{order_ref}/cancel")
async def cancel(
    order_ref: IdPath,
    body: CancelIn,
    uow: UowDep,
    user: CurrentUser,
    response: Response,
    if_match: IfMatch = None,
) -> OrderOut:
    ctx, order = await _change(uow, user, order_ref, if_match)
    await uc.cancel(ctx, order.id, body.reason)
    await uow.commit()
    return etag(response, order, user)


class ShipmentIn(BaseModel):
    carrier: Code
    tracking_number: Code
    quantity_shipped: Quantity
    shipped_at: Moment | None = None
    estimated_arrival: Day | None = None


@router.post("/{order_ref}/shipments")
async def ship(
    order_ref: IdPath,
    body: ShipmentIn,
    uow: UowDep,
    user: AdminUser,
    response: Response,
    if_match: IfMatch = None,
) -> OrderOut:
    ctx, order = await _change(uow, user, order_ref, if_match)
    cmd = ev.OrderShipped(
        order_id=order.id,
        **body.model_dump(exclude={"shipped_at"}),
        shipped_at=body.shipped_at or datetime.now(UTC),
    )
    await uc.record_shipment(ctx, cmd)
    await uow.commit()
    return etag(response, order, user)


@router.post("/{order_ref}/delivery")
async def confirm_delivery(
    order_ref: IdPath, uow: UowDep, user: CurrentUser, response: Response, if_match: IfMatch = None
) -> OrderOut:
    ctx, order = await _change(uow, user, order_ref, if_match)
    await uc.confirm_delivery(ctx, order.id, datetime.now(UTC))
    await uow.commit()
    return etag(response, order, user)


class BulkItem(BaseModel):
    order_id: Id = Field(description="order id or order number")
    to_status: WorkflowStatus
    reason: Note | None = None
    version: int | None = Field(
        default=None, ge=1, le=2**31 - 1, description="refuse the item unless at this version"
    )


class BulkIn(BaseModel):
    items: list[BulkItem] = Field(min_length=1, max_length=500)


class BulkResult(BaseModel):
    order_id: str
    ok: bool
    workflow_status: str | None = None
    version: int | None = None
    rule: str | None = None
    error: str | None = None


async def _bulk_item(ctx: OrdersContext, item: BulkItem) -> BulkResult:
    """One item, all or nothing: every check runs before anything is written."""
    try:
        order = await ctx.lookup(item.order_id)
        if order is None:
            raise NotFound(f"no order {item.order_id!r}")
        uc.check_version(order, item.version)
        uc.move(ctx, order, item.to_status, item.reason or "bulk status update")
    except RuleViolation as refusal:
        return BulkResult(order_id=item.order_id, ok=False, rule=refusal.rule, error=str(refusal))
    return BulkResult(order_id=order.id, ok=True, workflow_status=order.workflow_status)


@router.post("/bulk-status")
async def bulk_status(body: BulkIn, uow: UowDep, user: AdminUser) -> list[BulkResult]:
    """Admins move many orders at once; each item succeeds or fails on its own."""
    ctx = OrdersContext(uow, actor=f"{user.role}:{user.subject}")
    results = [await _bulk_item(ctx, item) for item in body.items]
    await uow.commit()
    for r in results:
        if r.ok:
            r.version = ctx.orders[r.order_id].version
    return results
