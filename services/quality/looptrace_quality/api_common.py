"""What the quality routes share: who may see what, the use-case context, page cursors."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field

from looptrace_quality import repository as repo
from looptrace_quality.config import QualitySettings
from looptrace_quality.models import InspectionRow, OrderLotRow
from looptrace_quality.services.context import QualityContext
from looptrace_shared.auth import Principal
from looptrace_shared.db import UnitOfWork
from looptrace_shared.errors import Conflict, Forbidden, NotFound, RuleViolation
from looptrace_shared.events.bounds import check_id
from looptrace_shared.params import CursorQuery
from looptrace_shared.runtime import Runtime

STAFF = ("inspector", "admin")
Limit = Annotated[int, Query(ge=1, le=200, description="page size")]
CursorParam = CursorQuery


def context(uow: UnitOfWork, rt: Runtime[QualitySettings, Any], user: Principal) -> QualityContext:
    return QualityContext(uow, rt.settings, actor=f"{user.role}:{user.subject}")


def sees_order(user: Principal, lot: OrderLotRow) -> bool:
    """Staff see every order; a supplier the orders it makes; a buyer the orders it placed."""
    owner = {"supplier": lot.supplier_id, "buyer": lot.buyer_id}.get(user.role)
    return user.role in STAFF or (owner is not None and owner == user.subject)


class OrderArchived(Conflict):
    rule = "order_archived"


async def readable_lot(
    uow: UnitOfWork, user: Principal, order_id: str, to_change: bool = False
) -> OrderLotRow:
    """The order's lot if the caller may see it (live or archived); 404 alike for unknown and
    someone else's; 409 if it is archived and the caller means ``to_change`` its records."""
    lot = (await repo.load_lots(uow.session, [order_id], archived=True)).get(order_id)
    if lot is None or not sees_order(user, lot):
        raise NotFound(f"order {order_id} is not known to quality, or not visible to you")
    if to_change and await repo.is_archived(uow.session, order_id):
        raise OrderArchived(
            f"order {order_id} is completed and archived (retention): its quality records can "
            "be read but no longer changed"
        )
    return lot


async def readable_inspection(
    uow: UnitOfWork, user: Principal, inspection_id: str, to_change: bool = False
) -> InspectionRow:
    """The inspection if the caller may see it (live, or archived when not ``to_change``)."""
    read = repo.inspection if to_change else repo.inspection_to_read
    row = await read(uow.session, inspection_id)
    lots = await repo.load_lots(uow.session, [row.order_id] if row else [], archived=True)
    if row is None or not sees_order(user, lots[row.order_id]):
        raise NotFound(f"no inspection {inspection_id} visible to you")
    return row


def may_read_supplier(user: Principal, supplier_id: str) -> None:
    if user.role in STAFF or (user.role == "supplier" and user.subject == supplier_id):
        return
    if user.role == "buyer":
        raise Forbidden(
            "buyers read the inspections of their own orders (GET /v1/orders/{id}/inspections), "
            "not a supplier's record"
        )
    raise NotFound(f"no quality record of supplier {supplier_id} visible to you")


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page")


def next_cursor(rows: list[InspectionRow], limit: int) -> str | None:
    if len(rows) < limit:
        return None
    last = rows[-1]
    raw = json.dumps([last.scheduled_at.isoformat(), last.id]).encode()
    return base64.urlsafe_b64encode(raw).decode()


def parse_cursor(cursor: str | None) -> repo.Cursor | None:
    if not cursor:
        return None
    try:
        booked, row_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        at = datetime.fromisoformat(booked)
        if at.tzinfo is None:
            raise ValueError("naive time")
        return at, check_id(row_id)
    except (ValueError, TypeError, AttributeError, UnicodeError):
        raise RuleViolation(
            f"cursor {cursor[:80]!r} is not valid; pass the next_cursor of the previous page"
        ) from None
