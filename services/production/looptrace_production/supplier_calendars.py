"""Queries of ``supplier_calendars``: each factory's working days, versioned for ``If-Match``.

A supplier without a row works the default calendar (``Planning.calendar``), at version 0.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from looptrace_production.calendar import WorkCalendar
from looptrace_production.models import SupplierCalendarRow
from looptrace_shared.errors import StaleVersion


@dataclass(frozen=True)
class SupplierCalendar:
    """A supplier's calendar as stored; ``version`` 0 and no ``updated_at``: the default."""

    supplier_id: str
    calendar: WorkCalendar
    version: int = 0
    updated_at: datetime | None = None

    @property
    def is_default(self) -> bool:
        return self.version == 0


def _stored(row: SupplierCalendarRow) -> SupplierCalendar:
    calendar = WorkCalendar(frozenset(row.weekend), frozenset(row.holidays))
    return SupplierCalendar(row.supplier_id, calendar, row.version, row.updated_at)


async def calendars_of(session: AsyncSession, ids: Iterable[str]) -> dict[str, WorkCalendar]:
    """The stored calendars of these suppliers (one query); suppliers without one are absent."""
    ids = list(set(ids))
    if not ids:
        return {}
    q = select(SupplierCalendarRow).where(SupplierCalendarRow.supplier_id.in_(ids))
    return {row.supplier_id: _stored(row).calendar for row in await session.scalars(q)}


async def calendar_of(
    session: AsyncSession, supplier_id: str, default: WorkCalendar
) -> SupplierCalendar:
    row = await session.get(SupplierCalendarRow, supplier_id)
    return _stored(row) if row else SupplierCalendar(supplier_id, default)


async def store_calendar(
    session: AsyncSession, supplier_id: str, calendar: WorkCalendar, seen_version: int
) -> SupplierCalendar:
    """Write the calendar if the row is still at ``seen_version`` (0: no row yet), else 412."""
    values = {"weekend": sorted(calendar.weekend), "holidays": sorted(calendar.holidays)}
    upsert = (
        insert(SupplierCalendarRow)
        .values(supplier_id=supplier_id, version=1, **values)
        .on_conflict_do_update(
            index_elements=[SupplierCalendarRow.supplier_id],
            set_={**values, "version": SupplierCalendarRow.version + 1, "updated_at": func.now()},
            where=SupplierCalendarRow.version == seen_version,
        )
        .returning(SupplierCalendarRow.version, SupplierCalendarRow.updated_at)
    )
    row = (await session.execute(upsert)).first()
    if row is None:
        raise StaleVersion(
            f"the calendar of supplier {supplier_id} changed meanwhile (it was at version "
            f"{seen_version}); reload it and retry"
        )
    return SupplierCalendar(supplier_id, calendar, row.version, row.updated_at)
