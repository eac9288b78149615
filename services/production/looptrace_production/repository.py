"""Queries of the production schema. Plans are read and written in bulk: one query per batch."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, cast

from sqlalchemy import ARRAY, CursorResult, Row, String, any_, bindparam, insert, or_, select, text
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.ext.asyncio import AsyncSession

from looptrace_production.domain import SupplierOrder
from looptrace_production.domain.supplier_order import Closure
from looptrace_production.models import (
    OrderClosureRow,
    PhotoRow,
    ProgressLogRow,
    StageNoteRow,
    SupplierOrderRow,
)
from looptrace_production.plan_codec import decode_plan, encode_plan
from looptrace_production.retention import STORE, readable
from looptrace_shared.db import json_rows, text_array
from looptrace_shared.errors import Conflict

orders = SupplierOrderRow.__table__
progress_log = ProgressLogRow.__table__


class ConcurrentUpdate(Conflict):
    rule = "concurrent_update"


def _order(row: Row[Any]) -> SupplierOrder:
    m = row._mapping
    return SupplierOrder(
        **{k: m[k] for k in _FACTS},
        plan=decode_plan(m["plan"]),
        version=m["version"],
        completed_at=m["completed_at"],
        closed_at=m["closed_at"],
        closed_as=m["closed_as"],
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
_COLUMNS = tuple(orders.c)


async def lock_orders(
    session: AsyncSession, ids: Iterable[str], numbers: Iterable[str] = ()
) -> list[SupplierOrder]:
    """The orders named by id or number, locked for this transaction (in id order: no deadlock)."""
    ids, numbers = list(set(ids)), list(set(numbers))
    if not ids and not numbers:
        return []
    cond = or_(orders.c.order_id.in_(ids), orders.c.order_number.in_(numbers))
    q = select(*_COLUMNS).where(cond).order_by(orders.c.order_id).with_for_update()
    return [_order(r) for r in await session.execute(q)]


async def lock_versions(
    session: AsyncSession, ids: Iterable[str], numbers: Iterable[str] = ()
) -> list[tuple[str, int]]:
    """Like ``lock_orders``, but only (order id, row version) of each: the plans stay unread."""
    ids, numbers = list(set(ids)), list(set(numbers))
    if not ids and not numbers:
        return []
    c = orders.c
    cond = or_(c.order_id == _any("ids", ids), c.order_number == _any("numbers", numbers))
    q = select(c.order_id, c.version).where(cond).order_by(c.order_id).with_for_update()
    return [(r.order_id, r.version) for r in await session.execute(q)]


def _any(name: str, values: list[str]) -> Any:
    """``= ANY(array)``: one parameter however many values (no SQL to compile per batch)."""
    return any_(bindparam(name, values, type_=ARRAY(String)))


async def read_orders(session: AsyncSession, ids: Sequence[str]) -> list[SupplierOrder]:
    """The orders by id, without locking (for rows this transaction already locked)."""
    if not ids:
        return []
    q = select(*_COLUMNS).where(orders.c.order_id == _any("ids", list(ids)))
    return [_order(r) for r in await session.execute(q)]


async def lock_open_orders(session: AsyncSession, after: str, limit: int) -> list[SupplierOrder]:
    """The next open plans after ``after`` (keyset); rows locked by someone else are skipped."""
    q = (
        select(*_COLUMNS)
        .where(
            orders.c.completed_at.is_(None),
            orders.c.closed_at.is_(None),
            orders.c.order_id > after,
        )
        .order_by(orders.c.order_id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [_order(r) for r in await session.execute(q)]


async def find_order(session: AsyncSession, ref: str) -> SupplierOrder | None:
    """The order by id or number, live or archived (retention), for reading."""
    t = STORE.both("supplier_orders")
    q = (
        select(t)
        .where(or_(t.c.order_id == ref, t.c.order_number == ref))
        .order_by((t.c.order_id == ref).desc())  # an id wins over a number
    )
    row = (await session.execute(q.limit(1))).first()
    return _order(row) if row else None


async def is_archived(session: AsyncSession, order_id: str) -> bool:
    t = STORE.cold["supplier_orders"]
    q = select(t.c.order_id).where(t.c.order_id == order_id)
    return (await session.execute(q)).first() is not None


async def logged_messages(
    session: AsyncSession, pairs: Sequence[tuple[str, str]]
) -> set[tuple[str, str]]:
    """Which (order id, message id) pairs are already in the progress log."""
    if not pairs:
        return set()
    params: dict[str, Any] = {}
    orders = text_array(params, "orders", [p[0] for p in pairs])
    messages = text_array(params, "messages", [p[1] for p in pairs])
    logged = text(
        f"""
        SELECT l.order_id, l.message_id FROM production.progress_log AS l
        JOIN unnest({orders}, {messages}) AS k(order_id, message_id)
          ON l.order_id = k.order_id AND l.message_id = k.message_id
        """
    )
    return {(r.order_id, r.message_id) for r in await session.execute(logged, params)}


async def save_orders(session: AsyncSession, batch: Iterable[SupplierOrder]) -> None:
    """Insert the new orders and update the changed ones, each group in one statement."""
    changed = [o for o in batch if o.changed]
    new = [o for o in changed if o.is_new]
    old = [o for o in changed if not o.is_new]
    if new:
        await session.execute(insert(orders), [_insert_values(o) for o in new])
    if old:
        await _update(session, old)
        await _close(session, [o for o in old if o.closed_at is not None])
    for o in changed:
        o.version, o.plan_version, o.dirty = o.version + 1, o.plan.version, False


def _insert_values(o: SupplierOrder) -> dict[str, Any]:
    values = {k: getattr(o, k) for k in _FACTS}
    plan = encode_plan(o.plan).decode()
    closed = {"closed_at": o.closed_at, "closed_as": o.closed_as}
    return {**values, "plan": plan, "version": 1, "completed_at": o.completed_at, **closed}


async def _update(session: AsyncSession, old: list[SupplierOrder]) -> None:
    """One statement; the texts joined (``text_array``), not one JSON document: PostgreSQL then
    has no JSON to parse (1,000 plans of 1.9 KB: 14.7 µs/row against 23.6 through
    ``json_to_recordset``), and asyncpg no array elements to check."""
    params: dict[str, Any] = {
        "versions": [o.version for o in old],
        "completed": [o.completed_at for o in old],
    }
    ids = text_array(params, "ids", [o.order_id for o in old])
    plans = text_array(params, "plans", [encode_plan(o.plan).decode() for o in old])
    suppliers = text_array(params, "suppliers", [o.supplier_id for o in old])
    names = text_array(params, "names", [o.supplier_name or "" for o in old])
    update = text(
        f"""
        UPDATE production.supplier_orders AS s
        SET plan = v.plan, version = v.old_version + 1, supplier_id = v.supplier_id,
            supplier_name = NULLIF(v.supplier_name, ''), completed_at = v.completed_at,
            updated_at = now()
        FROM unnest({ids}, {plans}, CAST(:versions AS int[]), {suppliers}, {names},
                    CAST(:completed AS timestamptz[]))
             AS v(order_id, plan, old_version, supplier_id, supplier_name, completed_at)
        WHERE s.order_id = v.order_id AND s.version = v.old_version
        """
    )
    result = cast(CursorResult[Any], await session.execute(update, params))
    missed = len(old) - result.rowcount
    if missed:  # a row's version moved since it was read (another writer): retry the batch
        raise ConcurrentUpdate(
            f"{missed} of {len(old)} orders changed by someone else meanwhile; retry"
        )


async def _close(session: AsyncSession, closed: list[SupplierOrder]) -> None:
    """The closing of the batch's closed plans (rare: not a column of every batch's update)."""
    if closed:
        q = text(
            "UPDATE production.supplier_orders SET closed_at = :at, closed_as = :status "
            "WHERE order_id = :oid AND closed_at IS NULL"
        )
        rows = [{"oid": o.order_id, "at": o.closed_at, "status": o.closed_as} for o in closed]
        await session.execute(q, rows)


async def all_orders(session: AsyncSession, after: str, limit: int) -> list[SupplierOrder]:
    """The next plans after ``after`` (keyset, every plan, open or not), unlocked."""
    q = select(*_COLUMNS).where(orders.c.order_id > after).order_by(orders.c.order_id)
    return [_order(r) for r in await session.execute(q.limit(limit))]


async def record_closure(session: AsyncSession, order_id: str, closure: Closure,
                         reason: str | None) -> Closure:  # fmt: skip
    """Keep an order's closing, planned or not (the first one stays); the one kept."""
    row = {"order_id": order_id, "status": closure.status, "closed_at": closure.at}
    q = upsert(OrderClosureRow).values(**row, reason=reason).on_conflict_do_nothing()
    await session.execute(q)
    return (await closures_of(session, [order_id]))[order_id]


async def closures_of(session: AsyncSession, order_ids: Iterable[str]) -> dict[str, Closure]:
    """The closings kept of these orders (those closed before production planned them)."""
    ids = sorted(set(order_ids))
    if not ids:
        return {}
    q = select(OrderClosureRow).where(OrderClosureRow.order_id == _any("ids", ids))
    return {r.order_id: Closure(r.status, r.closed_at) for r in await session.scalars(q)}


async def add_progress_log(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """All rows in one statement from one JSON parameter, in the order given."""
    if rows:
        await session.execute(_ADD_LOG, {"rows": json_rows(rows)})


_LOG_COLUMNS = (
    "message_id text",
    "order_id text",
    "stage_number int",
    "stage_name text",
    "percentage float8",
    "reported_at timestamptz",
    "notes text",
    "photo_urls jsonb",
    "correction bool",
    "delay_reason text",
)
_LOG_NAMES = ", ".join(c.split()[0] for c in _LOG_COLUMNS)
_ADD_LOG = text(
    f"""
    INSERT INTO production.progress_log ({_LOG_NAMES})
    SELECT {_LOG_NAMES}
    FROM ROWS FROM (json_to_recordset(CAST(:rows AS json)) AS ({", ".join(_LOG_COLUMNS)}))
         WITH ORDINALITY AS r({_LOG_NAMES}, n)
    ORDER BY n
    """
)


# the read routes' view of an order's records: live and archived (retention) alike
_LOG, _NOTES, _PHOTOS = readable(ProgressLogRow), readable(StageNoteRow), readable(PhotoRow)


async def progress_of(session: AsyncSession, order_id: str) -> list[ProgressLogRow]:
    q = select(_LOG).where(_LOG.order_id == order_id).order_by(_LOG.id)
    return list(await session.scalars(q))


async def notes_of(session: AsyncSession, order_id: str) -> list[StageNoteRow]:
    q = select(_NOTES).where(_NOTES.order_id == order_id).order_by(_NOTES.id)
    return list(await session.scalars(q))


async def photos_of(session: AsyncSession, order_id: str) -> list[PhotoRow]:
    q = select(_PHOTOS).where(_PHOTOS.order_id == order_id).order_by(_PHOTOS.uploaded_at)
    return list(await session.scalars(q))


async def photo(session: AsyncSession, photo_id: str) -> PhotoRow | None:
    return (await session.scalars(select(_PHOTOS).where(_PHOTOS.id == photo_id))).first()
