"""Kafka entrypoints of the notifications service: envelope in → use case → rows out."""

from __future__ import annotations

from functools import partial
from typing import Any

from looptrace_notifications import services as uc
from looptrace_notifications import webhooks
from looptrace_notifications.config import NotificationsSettings
from looptrace_notifications.rulebook import default_rules
from looptrace_notifications.services import NotificationsContext
from looptrace_shared.db import UnitOfWork
from looptrace_shared.events import EVENT_TYPES
from looptrace_shared.messaging.consumer import ConsumerGroup
from looptrace_shared.messaging.dispatch import Dispatcher, Outcomes
from looptrace_shared.messaging.incoming import Incoming
from looptrace_shared.topics import (
    ORDERS_EVENTS,
    PREDICTIONS_ALERTS,
    PRODUCTION_EVENTS,
    QUALITY_EVENTS,
)

GROUP = "notifications"
TOPICS = (ORDERS_EVENTS, PRODUCTION_EVENTS, QUALITY_EVENTS, PREDICTIONS_ALERTS)
CONSUMED = {t for t, spec in EVENT_TYPES.items() if spec.topic in TOPICS}


async def when_event_tell_who_the_rules_name(ctx: NotificationsContext, item: Incoming) -> None:
    data = item.data.model_dump(mode="json")
    await uc.notify(ctx, item.type, item.subject, data, item.event_id)


async def when_order_created_remember_buyer(ctx: NotificationsContext, item: Incoming) -> None:
    await uc.remember_buyer(ctx, item.data)
    await when_event_tell_who_the_rules_name(ctx, item)


async def when_supplier_assigned_remember_supplier(
    ctx: NotificationsContext, item: Incoming
) -> None:
    await uc.remember_supplier(ctx, item.data)
    await when_event_tell_who_the_rules_name(ctx, item)


def reactions() -> dict[str, Any]:
    heard = {r.event_type for r in default_rules().rules} & CONSUMED
    table: dict[str, Any] = {t: when_event_tell_who_the_rules_name for t in heard}
    table["order.created"] = when_order_created_remember_buyer
    table["order.supplier_assigned"] = when_supplier_assigned_remember_supplier
    return table


UNBLOCKS = frozenset({"order.created", "order.supplier_assigned"})
dispatcher: Dispatcher[NotificationsContext] = Dispatcher(reactions(), UNBLOCKS)


async def handle_batch(
    uow: UnitOfWork, items: list[Incoming], settings: NotificationsSettings
) -> Outcomes:
    ctx = NotificationsContext(uow, settings)
    await ctx.preload([i.subject for i in items])
    outcomes = await dispatcher.run(ctx, items)
    await webhooks.queue_events(ctx, items, outcomes)
    await uc.flush(ctx)
    return outcomes


def consumer_group(settings: NotificationsSettings) -> ConsumerGroup:
    return ConsumerGroup(
        GROUP,
        TOPICS,
        partial(handle_batch, settings=settings),
        unblocks=UNBLOCKS,
    )


def consumer_groups(runtime: Any) -> list[ConsumerGroup]:
    return [consumer_group(runtime.settings)]
