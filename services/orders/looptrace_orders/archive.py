"""Cold storage of the orders schema: the ``orders_archive`` schema holds completed orders past
the retention threshold, with their history, shipments and invoices, in tables of the same
columns. Reads fall back to it, so an archived order answers the same APIs (read-only)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Table, inspect, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from looptrace_orders.models import (
    InvoiceRow,
    OrderRow,
    ShipmentRow,
    ShipmentUpdateRow,
    StatusHistoryRow,
)
from looptrace_shared.archive import ColdStore
from looptrace_shared.db import text_array
from looptrace_shared.errors import Conflict

ARCHIVE_SCHEMA = "orders_archive"

#: what moves with an order, parents first (the live children go by ON DELETE CASCADE)
MOVED: tuple[type[Any], ...] = (
    OrderRow,
    StatusHistoryRow,
    ShipmentRow,
    ShipmentUpdateRow,
    InvoiceRow,
)
_orders: Table = OrderRow.__table__  # type: ignore[assignment]
STORE = ColdStore(
    ARCHIVE_SCHEMA,
    [(_orders, lambda ids: _orders.c.id.in_(ids)), *(m.__table__ for m in MOVED[1:])],
)
LIVE: dict[str, Table] = STORE.live
ARCHIVED: dict[str, Table] = STORE.cold


class OrderArchived(Conflict):
    rule = "order_archived"


def archived(order: OrderRow) -> bool:
    """An order read from the archive (never in the session): read-only. A consumed batch's
    orders are in no session either (see ``batch_store``): the mark tells them apart."""
    return bool(inspect(order).info.get(_ARCHIVED))


def check_live(order: OrderRow) -> None:
    if archived(order):
        raise OrderArchived(
            f"order {order.order_number} is completed and archived (retention): it can be "
            "read but no longer changed"
        )


_ARCHIVED = "archived"


def _order_of(row: Any) -> OrderRow:
    order = OrderRow(**dict(row._mapping))
    inspect(order).info[_ARCHIVED] = True
    return order


async def archived_orders(
    session: AsyncSession, refs: Sequence[str], numbers: Iterable[str] = ()
) -> list[OrderRow]:
    """Archived orders whose id or order number is one of the references."""
    t = ARCHIVED["orders"]
    keys = list(set(refs) | set(numbers))
    if not keys:
        return []
    params: dict[str, Any] = {}
    among = text_array(params, "keys", keys)  # a batch's refs: one parameter, not one each
    q = select(t).where(text(f"id = ANY({among}) OR order_number = ANY({among})"))
    return [_order_of(r) for r in await session.execute(q, params)]


async def archived_order(session: AsyncSession, id_or_number: str) -> OrderRow | None:
    t = ARCHIVED["orders"]
    q = (
        select(t)
        .where(or_(t.c.id == id_or_number, t.c.order_number == id_or_number))
        .order_by((t.c.id == id_or_number).desc())
        .limit(1)
    )
    row = (await session.execute(q)).first()
    return None if row is None else _order_of(row)


async def archived_children(session: AsyncSession, table: str, order_id: str) -> list[Any]:
    """An archived order's rows of one child table, in the order they were recorded."""
    t = ARCHIVED[table]
    q = select(t).where(t.c.order_id == order_id).order_by(t.c.id)
    return list(await session.execute(q))
