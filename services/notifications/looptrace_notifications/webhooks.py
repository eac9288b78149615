"""Webhook use cases: subscriptions (a buyer's, or an admin's for a buyer), queueing the events
of the owner's own orders, manual redelivery, secret rotation, disabling a failing endpoint.

The same functions serve the HTTP routes and the consumer; the caller commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from looptrace_notifications.config import NotificationsSettings
from looptrace_notifications.consumed import TOPICS
from looptrace_notifications.services import NotificationsContext, flush
from looptrace_notifications.webhook_signing import new_secret
from looptrace_notifications.webhook_tables import WebhookDeliveryRow, WebhookSubscriptionRow
from looptrace_notifications.webhook_targets import check_target
from looptrace_shared.auth import Principal
from looptrace_shared.errors import NotFound, RuleViolation
from looptrace_shared.events import EVENT_TYPES
from looptrace_shared.messaging.dispatch import Outcomes
from looptrace_shared.messaging.incoming import Incoming


class UnknownWebhookEventType(RuleViolation):
    rule = "unknown_webhook_event_type"


def subscribable_types() -> list[str]:
    """The types a webhook can carry: every type the notifications service consumes."""
    return sorted(t for t, s in EVENT_TYPES.items() if s.topic in TOPICS)


def check_event_types(types: Sequence[str]) -> list[str]:
    allowed = set(subscribable_types())
    unknown = sorted(set(types) - allowed)
    if not types or unknown:
        raise UnknownWebhookEventType(
            f"event types {unknown or '(none)'} cannot be subscribed to; "
            f"choose one or more of: {', '.join(sorted(allowed))}"
        )
    return sorted(set(types))


# ---- subscriptions ---------------------------------------------------------------------


@dataclass
class SubscriptionRequest:
    url: str
    event_types: list[str]
    description: str = ""
    owner_id: str | None = None
    contact_email: str | None = None


def owner_for(user: Principal, requested: str | None) -> str:
    """A buyer subscribes for themself; an admin for the buyer named (an empty name refused)."""
    if user.is_admin:
        if not requested:
            raise RuleViolation("an admin subscribes for a buyer: give owner_id (the buyer id)")
        return requested
    user.require("buyer")
    if requested and requested != user.subject:
        raise NotFound(f"buyer {requested} not found")
    return user.subject


async def create_subscription(
    session: AsyncSession,
    settings: NotificationsSettings,
    user: Principal,
    req: SubscriptionRequest,
) -> WebhookSubscriptionRow:
    owner = owner_for(user, req.owner_id)
    await check_target(req.url, settings.webhook_allow_private_targets)
    row = WebhookSubscriptionRow(
        id=f"wh_{uuid.uuid4().hex}",
        owner_id=owner,
        contact_email=req.contact_email,
        url=req.url,
        event_types=check_event_types(req.event_types),
        description=req.description,
        secret=new_secret(),
        state="active",
        failures_in_a_row=0,
        created_by=user.subject,
    )
    session.add(row)
    await session.flush()
    return row


async def load_subscription(
    session: AsyncSession, user: Principal, sub_id: str, lock: bool = False
) -> WebhookSubscriptionRow:
    """The subscription, if it is the user's (or the user is an admin); else not found."""
    q = select(WebhookSubscriptionRow).where(WebhookSubscriptionRow.id == sub_id)
    row = (await session.scalars(q.with_for_update() if lock else q)).one_or_none()
    if row is None or not (user.is_admin or row.owner_id == user.subject):
        raise NotFound(f"webhook subscription {sub_id} not found")
    return row


async def change_subscription(
    settings: NotificationsSettings,
    row: WebhookSubscriptionRow,
    changes: dict[str, Any],
    now: datetime,
) -> WebhookSubscriptionRow:
    if "url" in changes:
        await check_target(changes["url"], settings.webhook_allow_private_targets)
        row.url = changes["url"]
    if "event_types" in changes:
        row.event_types = check_event_types(changes["event_types"])
    for name in ("description", "contact_email"):
        if name in changes:
            setattr(row, name, changes[name])
    if changes.get("enabled") is True and row.state != "active":
        row.state, row.disabled_reason, row.failures_in_a_row = "active", None, 0
    elif changes.get("enabled") is False:
        row.state, row.disabled_reason = (
            "disabled",
            f"disabled by its owner at {now:%Y-%m-%d %H:%M} UTC",
        )
    row.updated_at = now
    return row


def rotate_secret(
    row: WebhookSubscriptionRow, overlap_s: float, now: datetime
) -> WebhookSubscriptionRow:
    """A new secret; the old one keeps signing too (a second signature) for ``overlap_s``."""
    row.previous_secret, row.secret = row.secret, new_secret()
    row.previous_secret_until = now + timedelta(seconds=overlap_s)
    row.updated_at = now
    return row


def signing_secrets(row: WebhookSubscriptionRow, now: datetime) -> list[str]:
    valid_old = (
        row.previous_secret and row.previous_secret_until and row.previous_secret_until > now
    )
    return [row.secret, row.previous_secret] if valid_old else [row.secret]  # type: ignore[list-item]


async def redeliver(
    session: AsyncSession, row: WebhookSubscriptionRow, delivery_id: int, now: datetime
) -> WebhookDeliveryRow:
    """Send a delivery again, with the same ``webhook-id`` (receivers dedupe on it)."""
    q = select(WebhookDeliveryRow).where(
        WebhookDeliveryRow.id == delivery_id, WebhookDeliveryRow.subscription_id == row.id
    )
    delivery = (await session.scalars(q.with_for_update())).one_or_none()
    if delivery is None:
        raise NotFound(f"delivery {delivery_id} of webhook subscription {row.id} not found")
    delivery.state, delivery.next_attempt_at, delivery.first_attempt_at = "pending", now, None
    return delivery


# ---- queueing the events of the batch -----------------------------------------------------


async def queue_events(
    ctx: NotificationsContext, items: list[Incoming], outcomes: Outcomes
) -> None:
    """One delivery per (active subscription of the order's buyer, event of a subscribed type).

    An event whose order's buyer is not known yet waits (parked) when any subscription is
    active, like the notifications of that order do; refused and waiting ones queue nothing.
    """
    held = {id(i) for i, _ in outcomes.waiting} | {id(i) for i, _ in outcomes.rejected}
    ready = [i for i in items if id(i) not in held]
    if not ready:
        return
    unknown = [i for i in ready if i.subject not in ctx.contacts]
    if unknown and await _any_active(ctx.uow.session):
        outcomes.waiting += [
            (i, f"the buyer of order {i.subject} is not known yet") for i in unknown
        ]
    buyers = {ctx.contacts[i.subject].buyer_id for i in ready if i.subject in ctx.contacts}
    subs = await _active_of(ctx.uow.session, buyers)
    rows = [
        _delivery(s, i)
        for i in ready
        if i.subject in ctx.contacts
        for s in subs.get(ctx.contacts[i.subject].buyer_id, [])
        if i.type in s.event_types
    ]
    if rows:
        stmt = pg_insert(WebhookDeliveryRow).values(rows)
        await ctx.uow.session.execute(stmt.on_conflict_do_nothing())


def _delivery(sub: WebhookSubscriptionRow, item: Incoming) -> dict[str, Any]:
    return {
        "subscription_id": sub.id,
        "message_id": f"msg_{item.event_id}",
        "event_id": item.event_id,
        "event_type": item.type,
        "order_id": item.subject,
        "body": item.record.value.decode(),
        "state": "pending",
    }


async def _any_active(session: AsyncSession) -> bool:
    q = select(exists().where(WebhookSubscriptionRow.state == "active"))
    return bool(await session.scalar(q))


async def _active_of(
    session: AsyncSession, buyers: set[str]
) -> dict[str, list[WebhookSubscriptionRow]]:
    if not buyers:
        return {}
    q = select(WebhookSubscriptionRow).where(
        WebhookSubscriptionRow.owner_id.in_(buyers), WebhookSubscriptionRow.state == "active"
    )
    out: dict[str, list[WebhookSubscriptionRow]] = {}
    for s in await session.scalars(q):
        out.setdefault(s.owner_id, []).append(s)
    return out


# ---- disabling ---------------------------------------------------------------------------


async def disable(ctx: NotificationsContext, sub: WebhookSubscriptionRow, reason: str) -> None:
    """Stop sending to ``sub`` and tell its owner (in-app and by e-mail, if an address is known)."""
    await ctx.uow.session.execute(
        update(WebhookSubscriptionRow)
        .where(WebhookSubscriptionRow.id == sub.id)
        .values(state="disabled", disabled_reason=reason, updated_at=ctx.now)
    )
    email = sub.contact_email or await _buyer_email(ctx.uow.session, sub.owner_id)
    context = {
        "subscription_id": sub.id,
        "url": sub.url,
        "reason": reason,
        "description": sub.description,
        "base_url": ctx.settings.public_base_url,
        "recipient_name": "there",
        "order_id": sub.id,
    }
    ctx.pending.append(
        {
            "source_event_id": f"webhook-disabled:{sub.id[3:]}:{int(ctx.now.timestamp())}",
            "source_event_type": "webhooks.subscription_disabled",
            "recipient_id": sub.owner_id,
            "recipient_role": "buyer",
            "recipient_name": None,
            "recipient_email": email,
            "order_id": sub.id,
            "order_number": None,
            "notification_type": "webhook_disabled",
            "category": "admin",
            "subject": f"Webhook disabled: {sub.url}",
            "context": context,
        }
    )
    await flush(ctx)


async def _buyer_email(session: AsyncSession, buyer_id: str) -> str | None:
    from looptrace_notifications.models import OrderContactRow

    q = (
        select(OrderContactRow.buyer_email)
        .where(OrderContactRow.buyer_id == buyer_id, OrderContactRow.buyer_email.is_not(None))
        .order_by(OrderContactRow.updated_at.desc())
        .limit(1)
    )
    return await session.scalar(q)
