"""Buyer–supplier messages on an order: who may take part, posting, read receipts."""

from __future__ import annotations

import uuid
from typing import Any

from looptrace_notifications import repository as repo
from looptrace_notifications import services as uc
from looptrace_notifications.contacts import Contact, load_contacts
from looptrace_notifications.models import MessageRow
from looptrace_notifications.services import NotificationsContext
from looptrace_shared.auth import Principal
from looptrace_shared.errors import NotFound
from looptrace_shared.events.notifications import MessagePosted


async def participants(ctx: NotificationsContext, who: Principal, order_id: str) -> Contact:
    """The order's contacts, if ``who`` is its buyer, its assigned supplier or an admin."""
    contact = (await load_contacts(ctx.uow.session, [order_id])).get(order_id)
    if contact is not None and (who.is_admin or who.subject in _party_ids(who.role, contact)):
        return contact
    raise NotFound(
        f"no order {order_id!r} whose messages you may use (its buyer, its assigned supplier "
        "and admins may)"
    )


def _party_ids(role: str, contact: Contact) -> set[str]:
    if role == "buyer":
        return {contact.buyer_id}
    if role == "supplier" and contact.supplier_id:
        return {contact.supplier_id}
    return set()


def author_name(who: Principal, contact: Contact) -> str:
    if who.role == "buyer":
        return contact.buyer_name
    if who.role == "supplier" and contact.supplier_name:
        return contact.supplier_name
    return "LoopTrace admin"


async def post_message(
    ctx: NotificationsContext, who: Principal, order_id: str, text: str, attachments: list[str]
) -> MessageRow:
    """Store the message, publish ``message_posted`` and notify the other side."""
    contact = await participants(ctx, who, order_id)
    row = MessageRow(
        id=str(uuid.uuid4()),
        order_id=order_id,
        author_id=who.subject,
        author_role=who.role,
        text=text,
        attachments=attachments,
    )
    ctx.uow.session.add(row)
    await ctx.uow.session.flush()
    payload = MessagePosted(
        order_id=order_id, message_id=row.id, author_id=who.subject, author_role=who.role, text=text
    )
    envelope = ctx.emit(order_id, payload)  # over HTTP: no cause
    data = {**payload.model_dump(mode="json"), "author_name": author_name(who, contact)}
    await uc.notify(ctx, envelope.type, order_id, data, envelope.id_text)
    await uc.flush(ctx)
    await ctx.uow.session.refresh(row)
    return row


async def thread(ctx: NotificationsContext, who: Principal, order_id: str) -> list[dict[str, Any]]:
    await participants(ctx, who, order_id)
    messages = await repo.thread(ctx.uow.session, order_id)
    reads = await repo.reads_of(ctx.uow.session, [m.id for m in messages])
    return [listed(m, reads[m.id]) for m in messages]


def listed(m: MessageRow, reads: list[Any]) -> dict[str, Any]:
    return {
        "id": m.id,
        "order_id": m.order_id,
        "author_id": m.author_id,
        "author_role": m.author_role,
        "text": m.text,
        "attachments": m.attachments,
        "created_at": m.created_at,
        "read_by": [
            {"reader_role": r.reader_role, "reader_id": r.reader_id, "read_at": r.read_at}
            for r in reads
        ],
    }


async def mark_message_read(
    ctx: NotificationsContext, who: Principal, order_id: str, message_id: str
) -> None:
    await participants(ctx, who, order_id)
    found = await ctx.uow.session.get(MessageRow, message_id)
    if found is None or found.order_id != order_id:
        raise NotFound(f"message {message_id!r} is not part of order {order_id}")
    await repo.record_read(ctx.uow.session, message_id, who.role, who.subject)
