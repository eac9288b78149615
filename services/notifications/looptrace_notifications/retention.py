"""Retention of the notifications schema: the messages (and read receipts) of orders completed
more than ``RETENTION_YEARS`` ago move to the ``notifications_archive`` schema; threads read
both, so an archived order's conversation answers the same. One transaction per batch of
``RETENTION_BATCH`` orders (copy, then delete; receipts go by ON DELETE CASCADE); the copy skips
rows already archived, so an interrupted run, rerun, neither loses nor duplicates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import MetaData, Table, delete, exists, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from looptrace_notifications.config import NotificationsSettings
from looptrace_notifications.models import MessageReadRow, MessageRow, OrderContactRow
from looptrace_shared.db import make_engine
from looptrace_shared.retention import Report, cutoff_for

SERVICE = "notifications"
ARCHIVE_SCHEMA = "notifications_archive"
_archive = MetaData(schema=ARCHIVE_SCHEMA)
MESSAGES: Table = MessageRow.__table__  # type: ignore[assignment]
READS: Table = MessageReadRow.__table__  # type: ignore[assignment]
ARCHIVED_MESSAGES = MESSAGES.to_metadata(_archive, schema=ARCHIVE_SCHEMA)
ARCHIVED_READS = READS.to_metadata(_archive, schema=ARCHIVE_SCHEMA)


def _due(cutoff: datetime) -> Any:
    """Orders completed before ``cutoff`` that still have live messages."""
    contacts = OrderContactRow.__table__
    return select(contacts.c.order_id).where(
        contacts.c.completed_at < cutoff,
        exists().where(MESSAGES.c.order_id == contacts.c.order_id),
    )


def _of(ids: list[str]) -> tuple[Any, Any]:
    messages = select(MESSAGES.c.id).where(MESSAGES.c.order_id.in_(ids))
    return MESSAGES.c.order_id.in_(ids), READS.c.message_id.in_(messages)


async def _count(conn: AsyncConnection, ids: list[str]) -> dict[str, int]:
    of_messages, of_reads = _of(ids)
    count = select(func.count())
    return {
        "messages": int((await conn.execute(count.where(of_messages))).scalar_one()),
        "message_reads": int(
            (await conn.execute(count.select_from(READS).where(of_reads))).scalar_one()
        ),
    }


async def _move(conn: AsyncConnection, ids: list[str]) -> dict[str, int]:
    of_messages, of_reads = _of(ids)
    moved = {}
    for name, live, cold, where in (
        ("messages", MESSAGES, ARCHIVED_MESSAGES, of_messages),
        ("message_reads", READS, ARCHIVED_READS, of_reads),
    ):
        cols = [c.name for c in live.columns]
        copy = pg_insert(cold).from_select(cols, select(*live.c).where(where))
        moved[name] = (await conn.execute(copy.on_conflict_do_nothing())).rowcount
    await conn.execute(delete(MESSAGES).where(of_messages))
    return moved


async def run(
    engine: AsyncEngine, settings: NotificationsSettings, dry_run: bool = False
) -> Report:
    report = Report(SERVICE, dry_run, cutoff_for(settings.retention_years))
    due = _due(report.cutoff)
    while True:
        async with engine.begin() as conn:
            batch = due.order_by("order_id").limit(settings.retention_batch)
            if dry_run:
                ids = list((await conn.execute(due)).scalars())
                report.add(await _count(conn, ids))
                report.orders = len(ids)
                return report
            ids = list((await conn.execute(batch.with_for_update(skip_locked=True))).scalars())
            if not ids:
                return report
            report.add(await _move(conn, ids))
        report.orders += len(ids)


async def command(dry_run: bool) -> list[str]:
    """``looptrace retention run``: this service's part, with its settings from the environment."""
    settings = NotificationsSettings()
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        return (await run(engine, settings, dry_run)).lines()
    finally:
        await engine.dispose()


async def archived_thread(session: AsyncSession, order_id: str) -> list[Any]:
    t = ARCHIVED_MESSAGES
    q = select(t).where(t.c.order_id == order_id).order_by(t.c.created_at, t.c.id)
    return list(await session.execute(q))


async def archived_reads(session: AsyncSession, message_ids: list[str]) -> list[Any]:
    t = ARCHIVED_READS
    q = select(t).where(t.c.message_id.in_(message_ids)).order_by(t.c.read_at)
    return list(await session.execute(q))
