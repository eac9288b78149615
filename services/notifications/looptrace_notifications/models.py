"""Tables of the ``notifications`` schema."""

from __future__ import annotations

from datetime import date, time
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from looptrace_notifications.base import NOW as NOW
from looptrace_notifications.base import SCHEMA as SCHEMA
from looptrace_notifications.base import Base as Base
from looptrace_notifications.base import plumbing as plumbing
from looptrace_shared.columns import Created, Email, Key, Label, Moment, Name


class OrderContactRow(Base):
    """Who to tell about an order, learnt from the order events."""

    __tablename__ = "order_contacts"

    order_id: Mapped[Key] = mapped_column(primary_key=True)
    order_number: Mapped[Key] = mapped_column(index=True)
    buyer_id: Mapped[Key] = mapped_column(index=True)
    buyer_name: Mapped[Name]
    buyer_email: Mapped[Email | None]
    supplier_id: Mapped[Key | None] = mapped_column(index=True)
    supplier_name: Mapped[Name | None]
    supplier_email: Mapped[Email | None]
    updated_at: Mapped[Created]
    # when orders said the order completed (its messages go to cold storage after retention)
    completed_at: Mapped[Moment | None]


class PreferenceRow(Base):
    __tablename__ = "preferences"

    role: Mapped[str] = mapped_column(
        String(32), primary_key=True, default="buyer", server_default="buyer"
    )
    user_id: Mapped[Email] = mapped_column(primary_key=True)
    email_off: Mapped[list[str]] = mapped_column(JSONB, default=list)
    mode: Mapped[str] = mapped_column(String(32), default="immediate")
    time_zone: Mapped[Key] = mapped_column(default="UTC")
    quiet_start: Mapped[time | None] = mapped_column(Time)
    quiet_end: Mapped[time | None] = mapped_column(Time)
    last_digest_on: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[Created]


class NotificationRow(Base):
    """One in-app notification: one per (source event, recipient role, recipient)."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    source_event_id: Mapped[Key]
    source_event_type: Mapped[Label]
    recipient_id: Mapped[Email]
    recipient_role: Mapped[str] = mapped_column(String(32))
    recipient_name: Mapped[Name | None]
    recipient_email: Mapped[Email | None]
    order_id: Mapped[Key] = mapped_column(index=True)
    order_number: Mapped[Key | None]
    notification_type: Mapped[Key]
    category: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(Text)
    context: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[Created]
    read_at: Mapped[Moment | None]

    __table_args__ = (
        UniqueConstraint("source_event_id", "recipient_role", "recipient_id"),
        Index(
            "ix_notifications_recipient_unread",
            "recipient_role",
            "recipient_id",
            "read_at",
            "id",
        ),
        Index("ix_notifications_recipient_id", "recipient_role", "recipient_id", "id"),
    )


class EmailDeliveryRow(Base):
    """The e-mail of one notification: pending → sending → sent | failed (or digest → digested)."""

    __tablename__ = "email_deliveries"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    notification_id: Mapped[int] = mapped_column(
        ForeignKey("notifications.notifications.id", ondelete="CASCADE"), unique=True
    )
    recipient_email: Mapped[Email]
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[Created]
    claimed_at: Mapped[Moment | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    smtp_reply: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(255))
    sent_at: Mapped[Moment | None]
    created_at: Mapped[Created]

    __table_args__ = (Index("ix_email_deliveries_due", "state", "next_attempt_at"),)


class MessageRow(Base):
    """A buyer–supplier message on one order."""

    __tablename__ = "messages"

    id: Mapped[Key] = mapped_column(primary_key=True)
    order_id: Mapped[Key]
    author_id: Mapped[Email]
    author_role: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    attachments: Mapped[list[str]] = mapped_column(JSONB, default=list)
    created_at: Mapped[Created]

    __table_args__ = (Index("ix_messages_order_created", "order_id", "created_at"),)


class MessageReadRow(Base):
    __tablename__ = "message_reads"

    message_id: Mapped[str] = mapped_column(
        ForeignKey("notifications.messages.id", ondelete="CASCADE"), primary_key=True
    )
    # a subject is unique within its role only: the receipt says in which role it was read
    reader_role: Mapped[str] = mapped_column(String(16), primary_key=True)
    reader_id: Mapped[Email] = mapped_column(primary_key=True)
    read_at: Mapped[Created]


class DlqWatermarkRow(Base):
    """The end offset of one dead-letter partition when its topic was last alerted on."""

    __tablename__ = "dlq_watermarks"

    topic: Mapped[str] = mapped_column(String(255), primary_key=True)
    partition: Mapped[int] = mapped_column(Integer, primary_key=True)
    end_offset: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[Created]


# last, so the metadata lists this module's tables first, as it always has
from looptrace_notifications import webhook_tables  # noqa: E402,F401  (the webhook tables)
