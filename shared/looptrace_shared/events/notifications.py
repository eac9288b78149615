"""Notifications published for other consumers (CRM, chat bots, other mailers)."""

from __future__ import annotations

from datetime import datetime

from looptrace_shared.events.registry import Payload, event
from looptrace_shared.topics import NOTIFICATIONS_OUTBOUND


class NotificationFacts(Payload):
    notification_id: str
    order_id: str
    recipient_id: str
    recipient_email: str | None = None
    role: str
    notification_type: str
    category: str
    subject: str
    source_event_id: str
    channel: str = "email"


@event("notifications.notification_sent", NOTIFICATIONS_OUTBOUND)
class NotificationSent(NotificationFacts):
    sent_at: datetime


@event("notifications.notification_failed", NOTIFICATIONS_OUTBOUND)
class NotificationFailed(NotificationFacts):
    failed_at: datetime
    error: str
    attempts: int


@event("notifications.message_posted", NOTIFICATIONS_OUTBOUND)
class MessagePosted(Payload):
    order_id: str
    message_id: str
    author_id: str
    author_role: str
    text: str
