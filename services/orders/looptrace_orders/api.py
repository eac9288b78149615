"""HTTP schemas and routes of the orders service."""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response
from pydantic import BaseModel, Field

from looptrace_orders import repository as repo
from looptrace_orders import services as uc
from looptrace_orders.models import OrderRow
from looptrace_orders.services import OrdersContext
from looptrace_orders.workflow import WorkflowStatus, order_status, production_status
from looptrace_shared.auth import CurrentUser, Principal
from looptrace_shared.errors import Forbidden, NotFound, RuleViolation
from looptrace_shared.events import orders as ev
from looptrace_shared.http import UowDep

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
    unit_price: Decimal
    total_price: Decimal
    supplier_unit_cost: Decimal | None
    margin: Decimal | None
    margin_percent: Decimal | None
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


def order_out(o: OrderRow) -> OrderOut:
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
        qc_gate_passed=uc.qc_gate_passed(o),
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


def etag(response: Response, order: OrderRow) -> OrderOut:
    response.headers["ETag"] = f'"{order.version}"'
    return order_out(order)


def parse_if_match(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip().strip("W/").strip('"'))
    except ValueError:
        raise RuleViolation(
            f"If-Match must be the order's version as an ETag, e.g. '\"3\"'; got {value!r}"
        ) from None


IfMatch = Annotated[str | None, Header(alias="If-Match")]


@router.post("", status_code=201)
async def create_order(
    cmd: ev.OrderPlaced, uow: UowDep, user: CurrentUser, response: Response
) -> OrderOut:
    user.require("buyer")
    if user.role == "buyer" and cmd.buyer.id != user.subject:
        raise Forbidden(
            f"a buyer may only place orders for themselves (buyer.id must be {user.subject!r})"
        )
    ctx = OrdersContext(uow, actor=user.subject)
    order = await uc.place_order(ctx, cmd)
    await uow.commit()
    return etag(response, order)


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
    except (ValueError, TypeError):
        raise RuleViolation(
            "cursor is not valid; use the next_cursor of the previous page"
        ) from None
    if key != sort.value:
        raise RuleViolation(
            f"this cursor was made for sort={key!r}; keep the same sort while paging"
        )
    parse = {"created_at": datetime.fromisoformat, "target_date": date.fromisoformat}.get(
        sort.value.lstrip("-"), str
    )
    return parse(value), str(oid)


@router.get("")
async def list_orders(
    uow: UowDep,
    user: CurrentUser,
    status: Annotated[
        list[WorkflowStatus] | None, Query(description="workflow status (repeatable)")
    ] = None,
    supplier_id: str | None = None,
    buyer_id: str | None = None,
    target_from: date | None = None,
    target_to: date | None = None,
    delayed_only: bool = False,
    number_prefix: Annotated[str | None, Query(description="order number starts with")] = None,
    sort: repo.OrderSort = repo.OrderSort.NEWEST,
    cursor: str | None = None,
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
    return OrderPage(items=[order_out(o) for o in rows], next_cursor=nxt)


@router.get("/{order_ref}")
async def get_order(order_ref: str, uow: UowDep, user: CurrentUser, response: Response) -> OrderOut:
    return etag(response, await visible_order(uow, user, order_ref))


class HistoryOut(BaseModel):
    from_status: str | None
    to_status: str
    at: datetime
    cause: str
    reason: str | None


@router.get("/{order_ref}/history")
async def status_history(order_ref: str, uow: UowDep, user: CurrentUser) -> list[HistoryOut]:
    order = await visible_order(uow, user, order_ref)
    return [
        HistoryOut.model_validate(h, from_attributes=True)
        for h in await repo.history(uow.session, order.id)
    ]


class AssignIn(BaseModel):
    supplier: ev.Party


async def _change(
    uow: UowDep, user: Principal, order_ref: str, if_match: str | None
) -> tuple[OrdersContext, OrderRow]:
    order = await visible_order(uow, user, order_ref)
    may_act(user, order)
    uc.check_version(order, parse_if_match(if_match))
    ctx = OrdersContext(uow, actor=f"{user.role}:{user.subject}")
    ctx.remember(order)
    return ctx, order


@router.post("/{order_ref}/assign")
async def assign(
    order_ref: str,
    body: AssignIn,
    uow: UowDep,
    user: CurrentUser,
    response: Response,
    if_match: IfMatch = None,
) -> OrderOut:
    user.require("admin")
    ctx, order = await _change(uow, user, order_ref, if_match)
    await uc.assign_supplier(ctx, order.id, body.supplier, f"{user.role}:{user.subject}")
    await uow.commit()
    return etag(response, order)


class CancelIn(BaseModel):
    reason: str = Field(min_length=1)


@router.post("/{order_ref}/cancel")
async def cancel(
    order_ref: str,
    body: CancelIn,
    uow: UowDep,
    user: CurrentUser,
    response: Response,
    if_match: IfMatch = None,
) -> OrderOut:
    ctx, order = await _change(uow, user, order_ref, if_match)
    await uc.cancel(ctx, order.id, body.reason)
    await uow.commit()
    return etag(response, order)


class ShipmentIn(BaseModel):
    carrier: str = Field(min_length=1)
    tracking_number: str = Field(min_length=1)
    quantity_shipped: int = Field(gt=0)
    shipped_at: datetime | None = None
    estimated_arrival: date | None = None


@router.post("/{order_ref}/shipments")
async def ship(
    order_ref: str,
    body: ShipmentIn,
    uow: UowDep,
    user: CurrentUser,
    response: Response,
    if_match: IfMatch = None,
) -> OrderOut:
    user.require("admin")
    ctx, order = await _change(uow, user, order_ref, if_match)
    cmd = ev.OrderShipped(
        order_id=order.id,
        **body.model_dump(exclude={"shipped_at"}),
        shipped_at=body.shipped_at or datetime.now(UTC),
    )
    await uc.record_shipment(ctx, cmd)
    await uow.commit()
    return etag(response, order)


@router.post("/{order_ref}/delivery")
async def confirm_delivery(
    order_ref: str, uow: UowDep, user: CurrentUser, response: Response, if_match: IfMatch = None
) -> OrderOut:
    ctx, order = await _change(uow, user, order_ref, if_match)
    await uc.confirm_delivery(ctx, order.id, datetime.now(UTC))
    await uow.commit()
    return etag(response, order)


class BulkItem(BaseModel):
    order_id: str = Field(description="order id or order number")
    to_status: WorkflowStatus
    reason: str | None = None
    version: int | None = Field(default=None, description="refuse the item unless at this version")


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
async def bulk_status(body: BulkIn, uow: UowDep, user: CurrentUser) -> list[BulkResult]:
    """Admins move many orders at once; each item succeeds or fails on its own."""
    user.require("admin")
    ctx = OrdersContext(uow, actor=f"{user.role}:{user.subject}")
    results = [await _bulk_item(ctx, item) for item in body.items]
    await uow.commit()
    for r in results:
        if r.ok:
            r.version = ctx.orders[r.order_id].version
    return results
