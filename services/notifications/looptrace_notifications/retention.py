"""Retention of the notifications schema: the messages (and read receipts) of orders completed
more than ``RETENTION_YEARS`` ago move to the ``notifications_archive`` schema; threads read
both, so an archived order's conversation answers the same. The move is
``looptrace_shared.archive``'s: one transaction per batch of ``RETENTION_BATCH`` orders,
idempotent, safe to interrupt."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Table, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from looptrace_notifications.config import NotificationsSettings
from looptrace_notifications.models import MessageReadRow, MessageRow, OrderContactRow
from looptrace_shared.archive import ColdStore, Retention

SERVICE = "notifications"
ARCHIVE_SCHEMA = "notifications_archive"
MESSAGES: Table = MessageRow.__table__  # type: ignore[assignment]
READS: Table = MessageReadRow.__table__  # type: ignore[assignment]


def _reads_of(ids: Any) -> Any:
    return READS.c.message_id.in_(select(MESSAGES.c.id).where(MESSAGES.c.order_id.in_(ids)))


STORE = ColdStore(ARCHIVE_SCHEMA, [MESSAGES, (READS, _reads_of)])
ARCHIVED_MESSAGES = STORE.cold["messages"]
ARCHIVED_READS = STORE.cold["message_reads"]


def _due(cutoff: datetime, after: str = "") -> Any:
    """Orders completed before ``cutoff`` that still have live messages."""
    contacts = OrderContactRow.__table__
    return select(contacts.c.order_id).where(
        contacts.c.completed_at < cutoff,
        contacts.c.order_id > after,
        exists().where(MESSAGES.c.order_id == contacts.c.order_id),
    )


RETENTION = Retention(SERVICE, STORE, _due, NotificationsSettings)
run, command = RETENTION.run, RETENTION.command


async def archived_thread(session: AsyncSession, order_id: str) -> list[Any]:
    t = ARCHIVED_MESSAGES
    q = select(t).where(t.c.order_id == order_id).order_by(t.c.created_at, t.c.id)
    return list(await session.execute(q))


async def archived_reads(session: AsyncSession, message_ids: list[str]) -> list[Any]:
    t = ARCHIVED_READS
    q = select(t).where(t.c.message_id.in_(message_ids)).order_by(t.c.read_at)
    return list(await session.execute(q))
