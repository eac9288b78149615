"""Queries of the notifications schema."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, and_, func, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from looptrace_notifications import retention
from looptrace_notifications.models import (
    DlqWatermarkRow,
    EmailDeliveryRow,
    MessageReadRow,
    MessageRow,
    NotificationRow,
    OrderContactRow,
    PreferenceRow,
)


async def load_contacts(session: AsyncSession, ids: Iterable[str]) -> dict[str, OrderContactRow]:
    ids = list(set(ids))
    if not ids:
        return {}
    rows = await session.scalars(select(OrderContactRow).where(OrderContactRow.order_id.in_(ids)))
    return {r.order_id: r for r in rows}


async def load_preferences(
    session: AsyncSession, users: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], PreferenceRow]:
    """Preferences by (role, user id): a supplier never gets a buyer's with the same id."""
    keys = list(set(users))
    if not keys:
        return {}
    q = select(PreferenceRow).where(tuple_(PreferenceRow.role, PreferenceRow.user_id).in_(keys))
    return {(r.role, r.user_id): r for r in await session.scalars(q)}


def mine(role: str, user_id: str) -> ColumnElement[bool]:
    """A user's notifications: keyed by role and subject, never by the subject alone."""
    if not role or not user_id:
        raise ValueError("an inbox needs a role and a subject")
    return and_(NotificationRow.recipient_role == role, NotificationRow.recipient_id == user_id)


async def insert_notifications(
    session: AsyncSession, rows: list[dict[str, Any]]
) -> list[NotificationRow]:
    """Insert, skipping (source event, recipient) pairs already there; returns the new rows."""
    if not rows:
        return []
    stmt = (
        pg_insert(NotificationRow)
        .values(rows)
        .on_conflict_do_nothing(
            index_elements=["source_event_id", "recipient_role", "recipient_id"]
        )
        .returning(NotificationRow)
    )
    return list(await session.scalars(stmt))


async def insert_deliveries(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        stmt = pg_insert(EmailDeliveryRow).values(rows).on_conflict_do_nothing()
        await session.execute(stmt)


# ---- inbox --------------------------------------------------------------------------


@dataclass(frozen=True)
class InboxPosition:
    """Where an inbox page ended: the last notification's read flag and id."""

    read: bool
    id: int


def _is_read() -> ColumnElement[bool]:
    return NotificationRow.read_at.is_not(None)


async def inbox_page(
    session: AsyncSession,
    role: str,
    user_id: str,
    unread_only: bool,
    limit: int,
    after: InboxPosition | None = None,
    offset: int = 0,
) -> list[NotificationRow]:
    """Unread first, then newest first; the page continues strictly ``after`` a position.

    Ids only grow, so notifications that arrive while a user pages sort before any
    position already returned: later pages neither repeat nor skip.
    """
    q = select(NotificationRow).where(mine(role, user_id))
    if unread_only:
        q = q.where(NotificationRow.read_at.is_(None))
    if after is not None:
        q = q.where(_beyond(after))
    q = q.order_by(_is_read(), NotificationRow.id.desc())
    return list(await session.scalars(q.offset(offset).limit(limit)))


def _beyond(p: InboxPosition) -> ColumnElement[bool]:
    older = and_(_is_read() == p.read, NotificationRow.id < p.id)
    return older if p.read else or_(_is_read(), older)


async def unread_count(session: AsyncSession, role: str, user_id: str) -> int:
    q = select(func.count()).where(mine(role, user_id), NotificationRow.read_at.is_(None))
    return int(await session.scalar(q) or 0)


async def mark_read(
    session: AsyncSession, role: str, user_id: str, ids: list[int] | None, now: datetime
) -> int:
    stmt = update(NotificationRow).where(mine(role, user_id), NotificationRow.read_at.is_(None))
    if ids is not None:
        stmt = stmt.where(NotificationRow.id.in_(ids))
    result = cast(CursorResult[Any], await session.execute(stmt.values(read_at=now)))
    return int(result.rowcount or 0)


async def notification(
    session: AsyncSession, role: str, user_id: str, nid: int
) -> NotificationRow | None:
    q = select(NotificationRow).where(NotificationRow.id == nid, mine(role, user_id))
    return (await session.scalars(q)).first()


async def notifications_after(
    session: AsyncSession, role: str, user_id: str, after_id: int, limit: int = 100
) -> list[NotificationRow]:
    q = (
        select(NotificationRow)
        .where(mine(role, user_id), NotificationRow.id > after_id)
        .order_by(NotificationRow.id)
        .limit(limit)
    )
    return list(await session.scalars(q))


async def last_notification_id(session: AsyncSession, role: str, user_id: str) -> int:
    q = select(func.max(NotificationRow.id)).where(mine(role, user_id))
    return int(await session.scalar(q) or 0)


# ---- messages -----------------------------------------------------------------------


async def thread(session: AsyncSession, order_id: str) -> list[MessageRow]:
    """The order's messages: those in cold storage (retention), then the live ones."""
    q = select(MessageRow).where(MessageRow.order_id == order_id)
    live = list(await session.scalars(q.order_by(MessageRow.created_at, MessageRow.id)))
    return await retention.archived_thread(session, order_id) + live


async def reads_of(
    session: AsyncSession, message_ids: list[str]
) -> dict[str, list[MessageReadRow]]:
    out: dict[str, list[MessageReadRow]] = {m: [] for m in message_ids}
    if message_ids:
        q = select(MessageReadRow).where(MessageReadRow.message_id.in_(message_ids))
        for r in await session.scalars(q.order_by(MessageReadRow.read_at)):
            out[r.message_id].append(r)
        for r in await retention.archived_reads(session, message_ids):
            out[r.message_id].append(r)
    return out


async def record_read(
    session: AsyncSession, message_id: str, reader_role: str, reader_id: str
) -> None:
    stmt = pg_insert(MessageReadRow).values(
        message_id=message_id, reader_role=reader_role, reader_id=reader_id
    )
    await session.execute(stmt.on_conflict_do_nothing())


# ---- dead-letter watermarks ---------------------------------------------------------


async def try_job_lock(session: AsyncSession, job: str) -> bool:
    """Take a lock held until the transaction ends; ``False`` when another replica holds it."""
    lock = select(func.pg_try_advisory_xact_lock(func.hashtext(job)))
    return bool(await session.scalar(lock))


async def load_watermarks(session: AsyncSession, topics: list[str]) -> dict[str, dict[int, int]]:
    """End offset per partition of each topic, as stored at its last alert."""
    out: dict[str, dict[int, int]] = {t: {} for t in topics}
    if topics:
        q = select(DlqWatermarkRow).where(DlqWatermarkRow.topic.in_(topics))
        for row in await session.scalars(q):
            out[row.topic][row.partition] = row.end_offset
    return out


async def save_watermarks(
    session: AsyncSession, offsets: list[tuple[str, int, int]], now: datetime
) -> None:
    """Upsert ``(topic, partition, end_offset)`` rows."""
    if not offsets:
        return
    rows = [{"topic": t, "partition": p, "end_offset": e, "updated_at": now} for t, p, e in offsets]
    stmt = pg_insert(DlqWatermarkRow).values(rows)
    excluded = stmt.excluded
    stmt = stmt.on_conflict_do_update(
        index_elements=["topic", "partition"],
        set_={"end_offset": excluded.end_offset, "updated_at": excluded.updated_at},
    )
    await session.execute(stmt)
