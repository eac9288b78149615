"""Queries of the orders schema."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from looptrace_orders import archive
from looptrace_orders.models import OrderRow, ShipmentRow, ShipmentUpdateRow, StatusHistoryRow


async def load_orders(
    session: AsyncSession, ids: Iterable[str], numbers: Iterable[str] = ()
) -> list[OrderRow]:
    """Every order that uses one of the references as its id or as its order number (ids and
    order numbers share one namespace, so a reference names at most one order)."""
    refs = list(set(ids) | set(numbers))
    if not refs:
        return []
    q = select(OrderRow).where(or_(OrderRow.id.in_(refs), OrderRow.order_number.in_(refs)))
    live = list(await session.scalars(q))
    found = {o.id for o in live} | {o.order_number for o in live}
    rest = [r for r in refs if r not in found]
    return live + (await archive.archived_orders(session, rest) if rest else [])


async def find_order(session: AsyncSession, id_or_number: str) -> OrderRow | None:
    """The order with this id, else the one with this order number (never both: see
    ``place_order``, which keeps ids and numbers apart)."""
    q = (
        select(OrderRow)
        .where(or_(OrderRow.id == id_or_number, OrderRow.order_number == id_or_number))
        .order_by((OrderRow.id == id_or_number).desc())
    )
    live = (await session.scalars(q.limit(1))).first()
    return live if live is not None else await archive.archived_order(session, id_or_number)


async def order_by_number(session: AsyncSession, number: str) -> OrderRow | None:
    return (await session.scalars(select(OrderRow).where(OrderRow.order_number == number))).first()


async def shipped_total(session: AsyncSession, order_id: str) -> int:
    q = select(func.coalesce(func.sum(ShipmentRow.quantity), 0)).where(
        ShipmentRow.order_id == order_id
    )
    return int(await session.scalar(q) or 0)


async def history(
    session: AsyncSession, order_id: str, archived: bool = False
) -> list[StatusHistoryRow]:
    if archived:
        return await archive.archived_children(session, "status_history", order_id)
    q = (
        select(StatusHistoryRow)
        .where(StatusHistoryRow.order_id == order_id)
        .order_by(StatusHistoryRow.id)
    )
    return list(await session.scalars(q))


async def shipments(
    session: AsyncSession, order_id: str, archived: bool = False
) -> list[ShipmentRow]:
    if archived:
        return await archive.archived_children(session, "shipments", order_id)
    q = select(ShipmentRow).where(ShipmentRow.order_id == order_id).order_by(ShipmentRow.id)
    return list(await session.scalars(q))


async def shipment_updates(
    session: AsyncSession, order_id: str, archived: bool = False
) -> list[ShipmentUpdateRow]:
    if archived:
        return await archive.archived_children(session, "shipment_updates", order_id)
    q = (
        select(ShipmentUpdateRow)
        .where(ShipmentUpdateRow.order_id == order_id)
        .order_by(ShipmentUpdateRow.id)
    )
    return list(await session.scalars(q))


@dataclass
class OrderFilter:
    status: list[str] | None = None
    supplier_id: str | None = None
    buyer_id: str | None = None
    target_from: date | None = None
    target_to: date | None = None
    delayed_only: bool = False
    number_prefix: str | None = None


def filtered(f: OrderFilter) -> Select[tuple[OrderRow]]:
    q = select(OrderRow)
    conds = []
    if f.status:
        conds.append(OrderRow.workflow_status.in_(f.status))
    if f.delayed_only:
        conds.append(OrderRow.workflow_status == "delayed")
    if f.supplier_id is not None:
        conds.append(OrderRow.supplier_id == f.supplier_id)
    if f.buyer_id is not None:
        conds.append(OrderRow.buyer_id == f.buyer_id)
    if f.target_from is not None:
        conds.append(OrderRow.target_date >= f.target_from)
    if f.target_to is not None:
        conds.append(OrderRow.target_date <= f.target_to)
    if f.number_prefix is not None:
        conds.append(OrderRow.order_number.startswith(f.number_prefix, autoescape=True))
    return q.where(and_(*conds)) if conds else q


class OrderSort(StrEnum):
    """Sort keys of the order list; a leading '-' sorts descending."""

    NEWEST = "-created_at"
    OLDEST = "created_at"
    TARGET_SOONEST = "target_date"
    TARGET_LATEST = "-target_date"
    NUMBER = "order_number"
    NUMBER_DESC = "-order_number"

    @property
    def column(self) -> Any:
        return getattr(OrderRow, self.value.lstrip("-"))

    @property
    def descending(self) -> bool:
        return self.value.startswith("-")


async def page(
    session: AsyncSession,
    f: OrderFilter,
    sort: OrderSort,
    after: tuple[Any, str] | None,
    limit: int,
) -> list[OrderRow]:
    """Keyset pagination on (sort key, id): no duplicates or gaps while rows are inserted."""
    col, desc = sort.column, sort.descending
    q = filtered(f)
    if after:
        value, oid = after
        beyond = (col < value, OrderRow.id < oid) if desc else (col > value, OrderRow.id > oid)
        q = q.where(or_(beyond[0], and_(col == value, beyond[1])))
    order = (col.desc(), OrderRow.id.desc()) if desc else (col.asc(), OrderRow.id.asc())
    return list(await session.scalars(q.order_by(*order).limit(limit)))


def sort_value(order: OrderRow, sort: OrderSort) -> Any:
    return getattr(order, sort.value.lstrip("-"))


async def summary(session: AsyncSession, f: OrderFilter) -> dict[str, int]:
    sub = filtered(f).subquery()
    q = select(sub.c.workflow_status, func.count()).group_by(sub.c.workflow_status)
    return {s: int(n) for s, n in (await session.execute(q)).all()}
