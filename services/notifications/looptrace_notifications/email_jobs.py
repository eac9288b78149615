"""The e-mail jobs, off the event path: send due deliveries, send daily digests.

Exactly one e-mail per (event, recipient), as far as SMTP allows: a run claims due rows
and marks them ``sending`` in one transaction (``FOR UPDATE SKIP LOCKED``, so replicas
never claim the same row), sends outside any transaction, then records the outcome and
its ``notification_sent`` / ``notification_failed`` event in a second transaction.
Each mail's outcome is committed as soon as the server has answered, before the next
mail is sent (a database that is briefly away is retried), so at most one mail is in
that window. Residual window: if the process dies after the server accepted a mail but
before that commit (or the database stays away longer than the retries), the row stays
``sending``; after ``mailer_lease_s`` it is sent again with the same ``Message-ID``
(derived from the delivery id), which lets receiving systems drop the duplicate. That is
at-least-once, with a window of one send per crash.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from looptrace_notifications.config import NotificationsSettings
from looptrace_notifications.domain.delivery import MAX_ATTEMPTS, next_attempt_delay, should_retry
from looptrace_notifications.domain.errors import NotificationRuleViolation
from looptrace_notifications.mailer import Mail, Mailer, SendResult, message_id
from looptrace_notifications.models import EmailDeliveryRow, NotificationRow
from looptrace_notifications.rendering import Rendered, render
from looptrace_notifications.services import NotificationsContext
from looptrace_shared.events import notifications as ev
from looptrace_shared.messaging.transient import is_transient

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claimed:
    delivery_id: int
    attempts: int
    notification: NotificationRow
    to: str


async def deliver_due(runtime: Any, now: datetime | None = None) -> int:
    """Periodic job: send what is due; returns how many deliveries were settled."""
    settings: NotificationsSettings = runtime.settings
    now = now or datetime.now(UTC)
    await requeue_stale(runtime, now)
    claimed = await claim_due(runtime, now, settings.mailer_batch)
    if not claimed:
        return 0
    mailer = Mailer(settings)  # one SMTP connection for the run
    try:
        for c in claimed:
            await settle_with_retries(runtime, c, await _send(mailer, c, settings), settings)
    finally:
        await mailer.close()
    return len(claimed)


async def _send(mailer: Mailer, c: Claimed, settings: NotificationsSettings) -> SendResult:
    rendered = _render(c)
    if not isinstance(rendered, Rendered):
        return rendered
    n = c.notification
    mail_id = message_id(c.delivery_id, settings)
    return await mailer.send(Mail(c.to, rendered, mail_id, n.notification_type, n.source_event_id))


async def settle_with_retries(
    runtime: Any, c: Claimed, result: SendResult, settings: NotificationsSettings
) -> None:
    """Record one mail's outcome; a transient database failure is retried (with backoff,
    for at most half the lease) so that a mail the server accepted is not sent again."""
    budget = settings.mailer_lease_s / 2
    delay = 0.1
    while True:
        try:
            await settle(runtime, [c], [result], settings)
            return
        except Exception as err:
            if not is_transient(err) or budget <= 0:
                raise
            log.warning("outcome of delivery %d not recorded (%s); retrying", c.delivery_id, err)
            await asyncio.sleep(delay)
            budget -= delay
            delay = min(delay * 2, 2.0)


async def requeue_stale(runtime: Any, now: datetime) -> None:
    lease = timedelta(seconds=runtime.settings.mailer_lease_s)
    stmt = (
        update(EmailDeliveryRow)
        .where(EmailDeliveryRow.state == "sending", EmailDeliveryRow.claimed_at < now - lease)
        .values(state="pending", next_attempt_at=now)
    )
    async with runtime.sessions() as session:
        await session.execute(stmt)
        await session.commit()


async def claim_due(runtime: Any, now: datetime, limit: int) -> list[Claimed]:
    d, n = EmailDeliveryRow, NotificationRow
    q = (
        select(d, n)
        .join(n, n.id == d.notification_id)
        .where(d.state == "pending", d.next_attempt_at <= now)
        .order_by(d.next_attempt_at, d.id)
        .limit(limit)
        .with_for_update(of=d, skip_locked=True)
    )
    async with runtime.sessions() as session:
        rows = (await session.execute(q)).all()
        claimed = []
        for delivery, notification in rows:
            delivery.state, delivery.claimed_at = "sending", now
            delivery.attempts += 1
            delivery.message_id = message_id(delivery.id, runtime.settings)
            claimed.append(
                Claimed(delivery.id, delivery.attempts, notification, delivery.recipient_email)
            )
        await session.commit()
    return claimed


def _render(c: Claimed) -> Rendered | SendResult:
    try:
        return render(c.notification.notification_type, c.notification.context)
    except NotificationRuleViolation as err:
        return SendResult("permanent", f"cannot render: {err}")


async def settle(
    runtime: Any,
    claimed: list[Claimed],
    outcomes: list[SendResult],
    settings: NotificationsSettings,
) -> None:
    now = datetime.now(UTC)
    async with runtime.unit_of_work() as uow:
        for c, result in zip(claimed, outcomes, strict=True):
            values, event = _outcome(c, result, now, settings)
            await uow.session.execute(
                update(EmailDeliveryRow)
                .where(EmailDeliveryRow.id == c.delivery_id)
                .values(**values)
            )
            if event is not None:
                emit_delivery(NotificationsContext(uow, settings), c.notification, event)
        await uow.commit()


def _outcome(c: Claimed, result: SendResult, now: datetime, s: NotificationsSettings):  # type: ignore[no-untyped-def]
    values: dict[str, Any] = {"smtp_reply": result.reply[:2000]}
    if result.sent:
        values.update(state="sent", sent_at=now, last_error=None)
        return values, sent_event(c.notification, c.to, now)
    values["last_error"] = result.reply[:2000]
    if result.outcome and should_retry(result.outcome, c.attempts):
        delay = next_attempt_delay(c.attempts, s.mailer_backoff_base_s, s.mailer_backoff_cap_s)
        values.update(state="pending", next_attempt_at=now + timedelta(seconds=delay))
        return values, None
    values["state"] = "failed"
    return values, failed_event(c.notification, c.to, now, result.reply, c.attempts)


def _facts(n: NotificationRow, to: str, channel: str = "email") -> dict[str, Any]:
    return {
        "notification_id": str(n.id),
        "order_id": n.order_id,
        "recipient_id": n.recipient_id,
        "recipient_email": to,
        "role": n.recipient_role,
        "notification_type": n.notification_type,
        "category": n.category,
        "subject": n.subject,
        "source_event_id": n.source_event_id,
        "channel": channel,
    }


Delivered = ev.NotificationSent | ev.NotificationFailed


def sent_event(n: NotificationRow, to: str, at: datetime, channel: str = "email") -> Delivered:
    return ev.NotificationSent(**_facts(n, to, channel), sent_at=at)


def failed_event(n: NotificationRow, to: str, at: datetime, error: str, attempts: int) -> Delivered:
    return ev.NotificationFailed(**_facts(n, to), failed_at=at, error=error, attempts=attempts)


def emit_delivery(ctx: NotificationsContext, n: NotificationRow, event: Delivered) -> None:
    """What became of ``n``'s mail: a job's event, caused by no message; it carries on the
    correlation of the event that made the notification."""
    ctx.emit(n.order_id, event, cause=None, correlation_id=n.source_event_id)


__all__ = ["MAX_ATTEMPTS", "deliver_due", "requeue_stale", "claim_due", "settle"]
