"""Queries of the notifications schema."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    FromClause,
    TextClause,
    and_,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from looptrace_notifications import retention
from looptrace_notifications.base import SCHEMA
from looptrace_notifications.models import (
    Base,
    DlqWatermarkRow,
    EmailDeliveryRow,
    MessageReadRow,
    MessageRow,
    NotificationRow,
    PreferenceRow,
)
from looptrace_shared.db import json_rows, text_array


async def load_preferences(
    session: AsyncSession, users: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], PreferenceRow]:
    """Preferences by (role, user id): a supplier never gets a buyer's with the same id."""
    keys = list(set(users))
    if not keys:
        return {}
    params: dict[str, Any] = {}
    roles = text_array(params, "roles", [k[0] for k in keys])
    ids = text_array(params, "users", [k[1] for k in keys])
    # joined to the keys as two arrays: an IN of (role, user) pairs expands a bound parameter
    # per pair, which SQLAlchemy processes in Python for every batch
    among = text(
        f"SELECT p.* FROM {SCHEMA}.preferences AS p JOIN unnest({roles}, {ids})"
        " AS k(role, user_id) ON p.role = k.role AND p.user_id = k.user_id"
    )
    q = select(PreferenceRow).from_statement(among.bindparams(**params))
    return {(r.role, r.user_id): r for r in await session.scalars(q)}


def mine(role: str, user_id: str) -> ColumnElement[bool]:
    """A user's notifications: keyed by role and subject, never by the subject alone."""
    if not role or not user_id:
        raise ValueError("an inbox needs a role and a subject")
    return and_(NotificationRow.recipient_role == role, NotificationRow.recipient_id == user_id)


# a stored notification: its id and the row it was made from
Created = tuple[int, dict[str, Any]]


async def insert_notifications(session: AsyncSession, rows: list[dict[str, Any]]) -> list[Created]:
    """Insert in one statement, skipping (source event, recipient) pairs already there (so a
    redelivered event adds nothing); returns the new ones."""
    if not rows:
        return []
    by_key = {(r["source_event_id"], r["recipient_role"], r["recipient_id"]): r for r in rows}
    stored = await session.execute(_ADD_NOTIFICATIONS, {"rows": json_rows(rows)})
    return [(r.id, by_key[r.source_event_id, r.recipient_role, r.recipient_id]) for r in stored]


async def insert_deliveries(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(_ADD_DELIVERIES, {"rows": json_rows(rows)})


def record_of(table: FromClause, names: Sequence[str]) -> str:
    """``name type, …`` of ``table``'s columns: the record ``json_to_recordset`` reads rows as."""
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    return ", ".join(f"{n} {table.c[n].type.compile(dialect=dialect)}" for n in names)


def _from_json(model: type[Base], names: Sequence[str], tail: str) -> TextClause:
    """``INSERT`` of rows given as one JSON parameter, in the order given."""
    listed = ", ".join(names)
    record = record_of(model.__table__, names)
    return text(
        f"INSERT INTO {SCHEMA}.{model.__tablename__} ({listed}) SELECT {listed}"
        f" FROM ROWS FROM (json_to_recordset(CAST(:rows AS json)) AS ({record}))"
        f" WITH ORDINALITY AS r({listed}, n) ORDER BY n {tail}"
    )


_ADD_NOTIFICATIONS = _from_json(
    NotificationRow,
    (
        "source_event_id",
        "source_event_type",
        "recipient_id",
        "recipient_role",
        "recipient_name",
        "recipient_email",
        "order_id",
        "order_number",
        "notification_type",
        "category",
        "subject",
        "context",
    ),
    "ON CONFLICT (source_event_id, recipient_role, recipient_id) DO NOTHING"
    " RETURNING id, source_event_id, recipient_role, recipient_id",
)
_ADD_DELIVERIES = _from_json(
    EmailDeliveryRow,
    ("notification_id", "recipient_email", "state", "next_attempt_at", "attempts"),
    "ON CONFLICT DO NOTHING",
)


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
