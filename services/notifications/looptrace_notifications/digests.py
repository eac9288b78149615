"""The daily digest: one e-mail per digest-mode user, at the configured local hour.

Each user's digest is one transaction holding the user's preference row (``FOR UPDATE
SKIP LOCKED``, so replicas don't both send it): collect the held-back deliveries, send
one mail, mark them sent, remember the day. A transient SMTP failure rolls back and
the next run tries again; a permanent one marks the deliveries failed.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from looptrace_notifications.email_jobs import emit_delivery, failed_event, sent_event
from looptrace_notifications.mailer import Mail, Mailer, SendResult
from looptrace_notifications.models import EmailDeliveryRow, NotificationRow, PreferenceRow
from looptrace_notifications.rendering import DigestItem, build_digest, order_link
from looptrace_notifications.services import NotificationsContext
from looptrace_shared.db import UnitOfWork

log = logging.getLogger(__name__)


async def send_digests(runtime: Any, now: datetime | None = None) -> int:
    """Periodic job: send the digests that are due; returns how many were sent."""
    now = now or datetime.now(UTC)
    async with runtime.sessions() as session:
        q = (
            select(NotificationRow.recipient_role, NotificationRow.recipient_id)
            .join(EmailDeliveryRow, EmailDeliveryRow.notification_id == NotificationRow.id)
            .where(EmailDeliveryRow.state == "digest")
            .distinct()
        )
        users = [(role, user) for role, user in (await session.execute(q)).all()]
    sent = 0
    for role, user in users:
        async with runtime.unit_of_work() as uow:
            sent += await _digest_for(uow, runtime.settings, role, user, now)
    return sent


def is_due(prefs: PreferenceRow, now: datetime, hour: int) -> bool:
    local = now.astimezone(ZoneInfo(prefs.time_zone))
    return local.hour >= hour and prefs.last_digest_on != local.date()


async def _digest_for(uow: UnitOfWork, settings: Any, role: str, user: str, now: datetime) -> int:
    s = uow.session
    q = select(PreferenceRow).where(PreferenceRow.role == role, PreferenceRow.user_id == user)
    prefs = (await s.scalars(q.with_for_update(skip_locked=True))).first()
    if prefs is None or not is_due(prefs, now, settings.digest_hour):
        return 0
    rows = (await s.execute(_held_back(role, user))).all()
    if not rows:
        return 0
    to = rows[0][0].recipient_email
    mail = Mail(
        to,
        build_digest([_item(n, settings) for _, n in rows]),
        _digest_id(f"{role}:{user}", now, settings),
    )
    result = (await Mailer(settings).send_all([mail]))[0]
    if result.outcome == "transient":
        log.warning("digest for %s not sent (%s); will retry", user, result.reply)
        return 0
    _record(NotificationsContext(uow, settings), rows, result, to, now)
    ids = [d.id for d, _ in rows]
    state = "sent" if result.sent else "failed"
    await s.execute(
        update(EmailDeliveryRow)
        .where(EmailDeliveryRow.id.in_(ids))
        .values(
            state=state,
            sent_at=now if result.sent else None,
            smtp_reply=result.reply[:2000],
            message_id=mail.message_id,
            attempts=EmailDeliveryRow.attempts + 1,
        )
    )
    prefs.last_digest_on = now.astimezone(ZoneInfo(prefs.time_zone)).date()
    await uow.commit()
    return 1 if result.sent else 0


def _held_back(role: str, user: str):  # type: ignore[no-untyped-def]
    d, n = EmailDeliveryRow, NotificationRow
    return (
        select(d, n)
        .join(n, n.id == d.notification_id)
        .where(n.recipient_role == role, n.recipient_id == user, d.state == "digest")
        .order_by(n.id)
        .with_for_update(of=d)
    )


def _item(n: NotificationRow, settings: Any) -> DigestItem:
    url = order_link(settings.timeline_base_url, settings.console_base_url, n.order_id)
    return DigestItem(n.order_number or n.order_id, n.subject, url, n.created_at)


def _digest_id(user: str, now: datetime, settings: Any) -> str:
    key = hashlib.sha256(f"{user}:{now.date()}".encode()).hexdigest()[:24]
    domain = settings.smtp_from.rpartition("@")[2].rstrip(">") or "looptrace.local"
    return f"<digest-{key}@{domain}>"


def _record(
    ctx: NotificationsContext, rows: list[Any], result: SendResult, to: str, now: datetime
) -> None:
    for _, n in rows:
        if result.sent:
            emit_delivery(ctx, n, sent_event(n, to, now, channel="email_digest"))
        else:
            emit_delivery(ctx, n, failed_event(n, to, now, result.reply, 1))
