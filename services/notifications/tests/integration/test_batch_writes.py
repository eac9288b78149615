"""The consumer's batch path: contacts changed in memory and written once, every table written in
one statement, no inbox for the types it reacts to. Real PostgreSQL, two lanes."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from looptrace_notifications import services
from looptrace_notifications.handlers import consumer_group
from looptrace_notifications.models import plumbing
from looptrace_notifications.rendering import TemplateValueMissing
from looptrace_shared.messaging.consumer import BatchProcessor
from looptrace_shared.messaging.incoming import Record

pytestmark = pytest.mark.integration

TABLES = (
    "notifications",
    "email_deliveries",
    "order_contacts",
    "webhook_deliveries",
    "outbox",
    "inbox",
    "parked_messages",
)


@pytest.fixture
def lanes(runtime):  # type: ignore[no-untyped-def]
    s = runtime.settings.model_copy(update={"kafka_batch_lanes": 2})
    return BatchProcessor(consumer_group(s), runtime.sessions, plumbing, s)


async def counts(runtime) -> dict[str, int]:  # type: ignore[no-untyped-def]
    async with runtime.sessions() as s:
        return {
            t: int(await s.scalar(text(f"select count(*) from notifications.{t}")) or 0)
            for t in TABLES
        }


async def contact(runtime, order_id: str) -> Any:  # type: ignore[no-untyped-def]
    async with runtime.sessions() as s:
        q = text("select * from notifications.order_contacts where order_id = :o")
        return (await s.execute(q, {"o": order_id})).one()


async def subjects_of(runtime, order_id: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    async with runtime.sessions() as s:
        q = text(
            "select recipient_role || ':' || notification_type, subject"
            " from notifications.notifications where order_id = :o"
        )
        return {k: v for k, v in await s.execute(q, {"o": order_id})}


async def test_two_events_of_one_order_in_a_batch_apply_in_order(runtime, lanes, story) -> None:  # type: ignore[no-untyped-def]
    first, second, third = story(), story(), story()
    records = [
        *first.records(first.created(), first.supplier_assigned()),
        # the assignment comes first: its buyer is taken from it, its supplier survives the creation
        *second.records(second.supplier_assigned(), second.created()),
        *third.records(third.created(), third.shipped()),
    ]
    await lanes.process(records)

    one, two = await contact(runtime, first.order_id), await contact(runtime, second.order_id)
    assert (one.buyer_id, one.supplier_id) == (first.buyer.id, first.supplier.id)
    assert (two.buyer_id, two.supplier_id) == (second.buyer.id, second.supplier.id)
    assert (await contact(runtime, third.order_id)).supplier_id is None
    heard = await subjects_of(runtime, first.order_id)
    # the assignment's notifications saw the contact the creation had just made
    assert (
        heard["buyer:supplier_assigned"] == f"Order {first.number}: Dhaka Knitwear Ltd will make it"
    )
    assert heard["supplier:order_assigned"] == f"New order {first.number} from Nordic Knit AB"
    assert set(await subjects_of(runtime, third.order_id)) == {
        "buyer:order_confirmed",
        "buyer:order_shipped",
    }
    assert (await counts(runtime))["inbox"] == 0  # each type's own keys dedupe, not the inbox


async def test_redelivery_writes_nothing_twice(runtime, lanes, story) -> None:  # type: ignore[no-untyped-def]
    orders = [story() for _ in range(4)]
    batch = [r for o in orders for r in o.records(o.created(), o.supplier_assigned(), o.shipped())]
    await lanes.process(batch)
    before = await counts(runtime)
    contacts = [await contact(runtime, o.order_id) for o in orders]
    assert (before["notifications"], before["email_deliveries"], before["order_contacts"]) == (
        16,
        16,
        4,
    )

    await lanes.process(batch)  # the broker redelivers the whole batch
    await lanes.process(batch[:5] + batch[:5])  # and part of it twice within one batch
    assert await counts(runtime) == before
    for o, was in zip(orders, contacts, strict=True):
        now = (await contact(runtime, o.order_id))._asdict()
        assert {**now, "updated_at": None} == {**was._asdict(), "updated_at": None}


async def test_one_bad_event_in_a_batch_goes_to_the_dlq_while_the_rest_are_stored(
    runtime, lanes, story
) -> None:  # type: ignore[no-untyped-def]
    good = [story() for _ in range(3)]
    records = [r for o in good for r in o.records(o.created(), o.supplier_assigned())]
    broken = Record("orders.events.v1", 0, 900, b"ord-x", b'{"id": "not json')
    records.insert(3, broken)
    await lanes.process(records)

    stored = await counts(runtime)
    assert (stored["notifications"], stored["order_contacts"]) == (9, 3)
    async with runtime.sessions() as s:
        q = text("select topic, headers from notifications.outbox where topic like '%.dlq'")
        (dead,) = (await s.execute(q)).all()
    assert dead.topic == "orders.events.v1.dlq"
    assert dead.headers["rule"] == "malformed_json" and dead.headers["original_offset"] == "900"


async def test_a_refused_event_changes_no_contact(runtime, lanes, story, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    kept, refused = story(), story()
    await lanes.process(kept.records(kept.created()) + refused.records(refused.created()))
    real = services.subject

    def no_supplier_mail(kind: str, context: Any, entries: int) -> str:
        if kind == "supplier_assigned" and context["order_id"] == refused.order_id:
            raise TemplateValueMissing("template 'supplier_assigned' needs a value")
        return real(kind, context, entries)

    monkeypatch.setattr(services, "subject", no_supplier_mail)
    await lanes.process(
        kept.records(kept.supplier_assigned()) + refused.records(refused.supplier_assigned())
    )

    assert (await contact(runtime, kept.order_id)).supplier_id == kept.supplier.id
    assert (await contact(runtime, refused.order_id)).supplier_id is None  # nothing half-done
    assert set(await subjects_of(runtime, refused.order_id)) == {"buyer:order_confirmed"}
    async with runtime.sessions() as s:
        q = text("select headers->>'rule' from notifications.outbox where topic like '%.dlq'")
        assert list(await s.scalars(q)) == ["template_value_missing"]
