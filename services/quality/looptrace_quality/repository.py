"""Queries of the quality schema."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from looptrace_quality.dhu import WeeklyDhu
from looptrace_quality.models import (
    AqlOverrideRow,
    DefectRow,
    InlineCheckRow,
    InspectionRow,
    OrderLotRow,
    PhotoScreeningRow,
    SupplierQualityRow,
)
from looptrace_quality.retention import STORE, readable

# the read routes' view of the records: live and archived (retention) alike
_LOTS, _INSPECTIONS = readable(OrderLotRow), readable(InspectionRow)
_INLINE, _SCREENINGS = readable(InlineCheckRow), readable(PhotoScreeningRow)

Cursor = tuple[datetime, str]  # (booked at, inspection id) of the last row of the previous page


async def load_lots(
    session: AsyncSession, order_ids: Iterable[str], archived: bool = False
) -> dict[str, OrderLotRow]:
    """The lots of the orders (``archived``: those in cold storage too, for reading)."""
    ids = list(set(order_ids))
    if not ids:
        return {}
    lots = _LOTS if archived else OrderLotRow
    rows = await session.scalars(select(lots).where(lots.order_id.in_(ids)))
    return {r.order_id: r for r in rows}


async def is_archived(session: AsyncSession, order_id: str) -> bool:
    lots = STORE.cold["order_lots"]
    q = select(lots.c.order_id).where(lots.c.order_id == order_id)
    return (await session.execute(q)).first() is not None


async def inspections_page(
    session: AsyncSession,
    after: Cursor | None,
    limit: int,
    order_id: str | None = None,
    supplier_id: str | None = None,
) -> list[InspectionRow]:
    """Inspections (live and archived) in booking order, keyset-paged on (booked at, id)."""
    q = select(_INSPECTIONS)
    if order_id is not None:
        q = q.where(_INSPECTIONS.order_id == order_id)
    if supplier_id is not None:
        q = q.where(_INSPECTIONS.supplier_id == supplier_id)
    return list(await session.scalars(_after(q, after).limit(limit)))


def _after(q: Select[Any], after: Cursor | None) -> Select[Any]:
    booked, row_id = _INSPECTIONS.scheduled_at, _INSPECTIONS.id
    if after is not None:
        q = q.where(or_(booked > after[0], and_(booked == after[0], row_id > after[1])))
    return q.order_by(booked, row_id)


async def latest_for_stage(
    session: AsyncSession, order_id: str, stage_number: int | None
) -> InspectionRow | None:
    stage = (
        InspectionRow.stage_number.is_(None)
        if stage_number is None
        else InspectionRow.stage_number == stage_number
    )
    q = (
        select(InspectionRow)
        .where(InspectionRow.order_id == order_id, stage)
        .order_by(InspectionRow.round.desc())
        .limit(1)
    )
    return (await session.scalars(q)).first()


async def open_inspection(session: AsyncSession, order_id: str) -> InspectionRow | None:
    q = (
        select(InspectionRow)
        .where(InspectionRow.order_id == order_id, InspectionRow.status == "scheduled")
        .order_by(InspectionRow.scheduled_at.desc())
        .limit(1)
    )
    return (await session.scalars(q)).first()


async def open_inspections(session: AsyncSession, order_id: str) -> list[InspectionRow]:
    q = select(InspectionRow).where(
        InspectionRow.order_id == order_id, InspectionRow.status == "scheduled"
    )
    return list(await session.scalars(q))


async def inspection(session: AsyncSession, inspection_id: str) -> InspectionRow | None:
    return await session.get(InspectionRow, inspection_id)


async def inspection_to_read(session: AsyncSession, inspection_id: str) -> InspectionRow | None:
    """The inspection, live or archived."""
    q = select(_INSPECTIONS).where(_INSPECTIONS.id == inspection_id)
    return (await session.scalars(q)).first()


async def screening_to_read(session: AsyncSession, photo_id: str) -> PhotoScreeningRow | None:
    """The photo's screening, live or archived."""
    q = select(_SCREENINGS).where(_SCREENINGS.photo_id == photo_id)
    return (await session.scalars(q)).first()


async def defects(session: AsyncSession, inspection_id: str) -> list[DefectRow]:
    q = select(DefectRow).where(DefectRow.inspection_id == inspection_id).order_by(DefectRow.id)
    return list(await session.scalars(q))


async def supplier_state(
    session: AsyncSession, supplier_id: str, lock: bool = True
) -> SupplierQualityRow | None:
    q = select(SupplierQualityRow).where(SupplierQualityRow.supplier_id == supplier_id)
    return (await session.scalars(q.with_for_update() if lock else q)).first()


async def decided_of_supplier(
    session: AsyncSession, supplier_id: str, limit: int
) -> list[InspectionRow]:
    i = _INSPECTIONS
    q = (
        select(i)
        .where(i.supplier_id == supplier_id, i.status == "decided")
        .order_by(i.decided_at.desc())
        .limit(limit)
    )
    return list(await session.scalars(q))


async def outcome_counts(session: AsyncSession, supplier_id: str) -> dict[str, int]:
    i = _INSPECTIONS
    q = (
        select(i.disposition, func.count())
        .where(i.supplier_id == supplier_id, i.status == "decided")
        .group_by(i.disposition)
    )
    return {str(d): int(n) for d, n in (await session.execute(q)).all()}


async def save_supplier_state(
    session: AsyncSession,
    supplier_id: str,
    state: dict[str, object],
    row: SupplierQualityRow | None,
) -> None:
    if row is None:
        session.add(SupplierQualityRow(supplier_id=supplier_id, state=state))
    else:
        row.state = state


async def latest_order_of_supplier(session: AsyncSession, supplier_id: str) -> str | None:
    q = (
        select(InspectionRow.order_id)
        .where(InspectionRow.supplier_id == supplier_id)
        .order_by(InspectionRow.decided_at.desc().nulls_last(), InspectionRow.scheduled_at.desc())
        .limit(1)
    )
    return (await session.scalars(q)).first()


async def aql_override(session: AsyncSession, scope: str, owner_id: str) -> AqlOverrideRow | None:
    return await session.get(AqlOverrideRow, (scope, owner_id))


async def weekly_inline_dhu(session: AsyncSession, supplier_id: str, weeks: int) -> list[WeeklyDhu]:
    """The latest ``weeks`` weeks with inline checks of the supplier, oldest first."""
    c = _INLINE
    week = func.date_trunc("week", func.timezone("UTC", c.checked_at))
    q = (
        select(week, func.count(), func.sum(c.units_checked), func.sum(c.defects_found))
        .where(c.supplier_id == supplier_id)
        .group_by(week)
        .order_by(week.desc())
        .limit(weeks)
    )
    rows = (await session.execute(q)).all()
    return [WeeklyDhu(w.date(), int(n), int(u), int(d)) for w, n, u, d in reversed(rows)]
