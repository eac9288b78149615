"""Kafka entrypoints of the notifications service: the reaction table, the preload, the save."""

from __future__ import annotations

from typing import Any

from looptrace_notifications import services as uc
from looptrace_notifications import webhooks
from looptrace_notifications.config import NotificationsSettings
from looptrace_notifications.consumed import CONSUMED, TOPICS
from looptrace_notifications.contacts import Contact, completed, with_buyer, with_supplier
from looptrace_notifications.rulebook import default_rules
from looptrace_notifications.services import NotificationsContext
from looptrace_shared.messaging.dispatch import ConsumerGroup, Outcomes, Reaction
from looptrace_shared.messaging.incoming import Incoming
from looptrace_shared.runtime import Runtime

GROUP = "notifications"


async def when_event_tell_who_the_rules_name(ctx: NotificationsContext, item: Incoming) -> None:
    await _notify(ctx, item)


async def _notify(
    ctx: NotificationsContext, item: Incoming, contact: Contact | None = None
) -> None:
    data = item.data.model_dump(mode="json")
    await uc.notify(ctx, item.type, item.subject, data, item.event_id, contact)


async def when_order_created_remember_buyer(ctx: NotificationsContext, item: Incoming) -> None:
    contact = with_buyer(ctx.contacts.get(item.subject), item.data)
    await _notify(ctx, item, contact)  # a refused event changes no contact either
    ctx.remember(contact)


async def when_supplier_assigned_remember_supplier(
    ctx: NotificationsContext, item: Incoming
) -> None:
    contact = with_supplier(ctx.contacts.get(item.subject), item.data)
    await _notify(ctx, item, contact)
    ctx.remember(contact)


async def when_order_completed_note_it(ctx: NotificationsContext, item: Incoming) -> None:
    known = ctx.contacts.get(item.subject)
    if item.data.to_status != "completed" or known is None:
        await _notify(ctx, item)
        return
    contact = completed(known, item.envelope.time)
    await _notify(ctx, item, contact)
    ctx.remember(contact)


def reactions() -> dict[str, Reaction[NotificationsContext]]:
    """Every type a default rule names, plus the two that bring an order's contacts."""
    heard = {r.event_type for r in default_rules().rules} & CONSUMED
    table: dict[str, Reaction[NotificationsContext]] = {
        t: when_event_tell_who_the_rules_name for t in heard
    }
    table["order.created"] = when_order_created_remember_buyer
    table["order.supplier_assigned"] = when_supplier_assigned_remember_supplier
    table["order.status_changed"] = when_order_completed_note_it
    return table


# an order's contacts come with these: its notifications wait for them
UNBLOCKS = frozenset({"order.created", "order.supplier_assigned"})


def idempotent() -> frozenset[str]:
    """Every type reacted to: a repeat finds its effects already stored under keys of their own
    (a notification per event and recipient, a webhook delivery per subscription and event, an
    e-mail per notification; a contact is set to what the event says), in the same transaction,
    so the inbox would only record each event a second time."""
    return frozenset(reactions())


async def preload(ctx: NotificationsContext, items: list[Incoming]) -> None:
    """The contacts of every order of the batch (its webhooks need them too), in one query."""
    await ctx.preload([i.subject for i in items])


async def save(ctx: NotificationsContext, items: list[Incoming], outcomes: Outcomes) -> None:
    """The webhook deliveries of the batch's events, then its notifications and e-mails."""
    await webhooks.queue_events(ctx, items, outcomes)
    await uc.flush(ctx)


def consumer_group(settings: NotificationsSettings) -> ConsumerGroup[NotificationsContext]:
    return ConsumerGroup(
        GROUP,
        TOPICS,
        reactions(),
        context=lambda uow: NotificationsContext(uow, settings),
        preload=preload,
        save=save,
        unblocks=UNBLOCKS,
        idempotent=idempotent(),
    )


def consumer_groups(
    rt: Runtime[NotificationsSettings, Any],
) -> list[ConsumerGroup[NotificationsContext]]:
    return [consumer_group(rt.settings)]
