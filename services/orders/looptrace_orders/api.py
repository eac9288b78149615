"""HTTP schemas and routes of the orders service."""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from looptrace_orders import repository as repo
from looptrace_orders import services as uc
from looptrace_orders.archive import archived
from looptrace_orders.context import OrdersContext
from looptrace_orders.models import OrderRow
from looptrace_orders.transitions import move
from looptrace_orders.views import (
    IfMatch,
    OrderOut,
    etag,
    may_act,
    order_out,
    parse_if_match,
    visible_order,
)
from looptrace_orders.workflow import WorkflowStatus
from looptrace_shared.auth import AdminUser, CurrentUser, Principal, Roles
from looptrace_shared.errors import Forbidden, NotFound, RuleViolation
from looptrace_shared.events import orders as ev
from looptrace_shared.events.bounds import Code, Day, Id, Moment, Note, Quantity, check_id
from looptrace_shared.http import UowDep
from looptrace_shared.params import CursorQuery, IdPath, IdQuery

router = APIRouter(prefix="/v1/orders", tags=["orders"])


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
        for h in await repo.history(uow.session, order.id, archived(order))
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
    mode: Code | None = Field(default=None, examples=["sea", "air", "road", "rail", "courier"])
    container_number: Code | None = Field(default=None, examples=["CSQU3054383"])
    seal_number: Code | None = None
    port_of_loading: Code | None = Field(default=None, examples=["CNSHA"])
    port_of_discharge: Code | None = Field(default=None, examples=["DEHAM"])
    estimated_departure: Day | None = None


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
        move(ctx, order, item.to_status, item.reason or "bulk status update")
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
