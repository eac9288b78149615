"""Queries of the production schema. Plans are read and written in bulk: one query per batch."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, insert, or_, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from looptrace_production.domain import Plan
from looptrace_production.models import PhotoRow, ProgressLogRow, StageNoteRow, SupplierOrderRow
from looptrace_shared.errors import Conflict

orders = SupplierOrderRow.__table__
progress_log = ProgressLogRow.__table__


@dataclass
class SupplierOrder:
    """One supplier order in memory: its facts, its plan, and the row version it was read at."""

    order_id: str
    order_number: str
    supplier_id: str
    supplier_name: str | None
    buyer_id: str
    product_category: str
    quantity: int
    target_date: date
    has_print: bool
    plan: Plan
    version: int = 0  # 0: not stored yet
    completed_at: datetime | None = None
    plan_version: int = field(init=False)
    dirty: bool = False

    def __post_init__(self) -> None:
        self.plan_version = self.plan.version

    @property
    def is_new(self) -> bool:
        return self.version == 0

    @property
    def changed(self) -> bool:
        return self.dirty or self.plan.version != self.plan_version


class ConcurrentUpdate(Conflict):
    rule = "concurrent_update"


def _order(row: Row[Any]) -> SupplierOrder:
    m = row._mapping
    return SupplierOrder(
        **{k: m[k] for k in _FACTS},
        plan=Plan.from_dict(m["plan"]),
        version=m["version"],
        completed_at=m["completed_at"],
    )


_FACTS = (
    "order_id",
    "order_number",
    "supplier_id",
    "supplier_name",
    "buyer_id",
    "product_category",
    "quantity",
    "target_date",
    "has_print",
)


async def lock_orders(
    session: AsyncSession, ids: Iterable[str], numbers: Iterable[str] = ()
) -> list[SupplierOrder]:
    """The orders named by id or number, locked for this transaction (in id order: no deadlock)."""
    ids, numbers = list(set(ids)), list(set(numbers))
    if not ids and not numbers:
        return []
    cond = or_(orders.c.order_id.in_(ids), orders.c.order_number.in_(numbers))
    q = select(orders).where(cond).order_by(orders.c.order_id).with_for_update()
    return [_order(r) for r in await session.execute(q)]


async def lock_open_orders(session: AsyncSession, after: str, limit: int) -> list[SupplierOrder]:
    """The next open plans after ``after`` (keyset); rows locked by someone else are skipped."""
    q = (
        select(orders)
        .where(orders.c.completed_at.is_(None), orders.c.order_id > after)
        .order_by(orders.c.order_id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [_order(r) for r in await session.execute(q)]


async def find_order(session: AsyncSession, ref: str) -> SupplierOrder | None:
    q = select(orders).where(or_(orders.c.order_id == ref, orders.c.order_number == ref))
    row = (await session.execute(q.limit(1))).first()
    return _order(row) if row else None


async def logged_messages(
    session: AsyncSession, pairs: Sequence[tuple[str, str]]
) -> set[tuple[str, str]]:
    """Which (order id, message id) pairs are already in the progress log."""
    if not pairs:
        return set()
    c = progress_log.c
    q = select(c.order_id, c.message_id).where(tuple_(c.order_id, c.message_id).in_(list(pairs)))
    return {(r.order_id, r.message_id) for r in await session.execute(q)}


async def save_orders(session: AsyncSession, batch: Iterable[SupplierOrder]) -> None:
    """Insert the new orders and update the changed ones, each group in one statement."""
    changed = [o for o in batch if o.changed]
    new = [o for o in changed if o.is_new]
    old = [o for o in changed if not o.is_new]
    if new:
        await session.execute(insert(orders), [_insert_values(o) for o in new])
    if old:
        await _update(session, old)
    for o in changed:
        o.version, o.plan_version, o.dirty = o.version + 1, o.plan.version, False


def _insert_values(o: SupplierOrder) -> dict[str, Any]:
    values = {k: getattr(o, k) for k in _FACTS}
    return {**values, "plan": o.plan.to_dict(), "version": 1, "completed_at": o.completed_at}


_UPDATE = text(
    """
    UPDATE production.supplier_orders AS s
    SET plan = v.plan::jsonb, version = v.old_version + 1, supplier_id = v.supplier_id,
        supplier_name = v.supplier_name, completed_at = v.completed_at, updated_at = now()
    FROM unnest(CAST(:ids AS text[]), CAST(:plans AS text[]), CAST(:versions AS int[]),
                CAST(:suppliers AS text[]), CAST(:names AS text[]),
                CAST(:completed AS timestamptz[]))
         AS v(order_id, plan, old_version, supplier_id, supplier_name, completed_at)
    WHERE s.order_id = v.order_id AND s.version = v.old_version
    RETURNING s.order_id
    """
)


async def _update(session: AsyncSession, old: list[SupplierOrder]) -> None:
    params = {
        "ids": [o.order_id for o in old],
        "plans": [json.dumps(o.plan.to_dict(), separators=(",", ":")) for o in old],
        "versions": [o.version for o in old],
        "suppliers": [o.supplier_id for o in old],
        "names": [o.supplier_name for o in old],
        "completed": [o.completed_at for o in old],
    }
    updated = set((await session.execute(_UPDATE, params)).scalars())
    lost = [o.order_id for o in old if o.order_id not in updated]
    if lost:
        raise ConcurrentUpdate(
            f"orders changed by someone else meanwhile: {', '.join(lost[:5])}; retry"
        )


async def add_progress_log(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(progress_log), rows)


async def progress_of(session: AsyncSession, order_id: str) -> list[ProgressLogRow]:
    q = (
        select(ProgressLogRow)
        .where(ProgressLogRow.order_id == order_id)
        .order_by(ProgressLogRow.id)
    )
    return list(await session.scalars(q))


async def notes_of(session: AsyncSession, order_id: str) -> list[StageNoteRow]:
    q = select(StageNoteRow).where(StageNoteRow.order_id == order_id).order_by(StageNoteRow.id)
    return list(await session.scalars(q))


async def photos_of(session: AsyncSession, order_id: str) -> list[PhotoRow]:
    q = select(PhotoRow).where(PhotoRow.order_id == order_id).order_by(PhotoRow.uploaded_at)
    return list(await session.scalars(q))
