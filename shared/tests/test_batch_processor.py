"""The delivery guarantees of the batch pipeline, against a real PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import date

import pytest
from sqlalchemy import Column, Integer, String, Table, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from looptrace_shared.db import make_sessionmaker, plumbing_tables, service_metadata
from looptrace_shared.envelope import new_envelope
from looptrace_shared.errors import RuleViolation, WaitingFor
from looptrace_shared.messaging.consumer import BatchProcessor
from looptrace_shared.messaging.dispatch import ConsumerGroup, Context
from looptrace_shared.messaging.incoming import Record
from looptrace_shared.settings import ServiceSettings
from looptrace_shared.testing import fresh_schema

pytestmark = pytest.mark.integration

SCHEMA = "plumbing_test"
metadata = service_metadata(SCHEMA)
plumbing = plumbing_tables(metadata)
orders = Table("orders", metadata, Column("id", String, primary_key=True), Column("qty", Integer))


class TooMany(RuleViolation):
    rule = "too_many"


async def on_placed(ctx, item):  # type: ignore[no-untyped-def]
    uow = ctx.uow
    if item.data.quantity > 1000:
        raise TooMany(f"quantity {item.data.quantity} is over 1000")
    await uow.session.execute(
        pg_insert(orders).values(id=item.data.order_id, qty=item.data.quantity)
    )
    uow.emit(
        new_envelope(
            "order.status_changed",
            "test",
            item.subject,
            {
                "order_id": item.subject,
                "order_number": "N",
                "from_status": None,
                "to_status": "placed",
                "status": "confirmed",
                "production_status": "not_started",
            },
            cause=item.envelope,
        )
    )


async def on_assigned(ctx, item):  # type: ignore[no-untyped-def]
    found = await ctx.uow.session.scalar(select(orders.c.id).where(orders.c.id == item.subject))
    if not found:
        raise WaitingFor(f"order {item.subject} is not known yet")


REACTIONS = {"OrderPlaced": on_placed, "SupplierAssigned": on_assigned}


def group(name: str, **steps) -> ConsumerGroup[Context]:  # type: ignore[no-untyped-def]
    """A group of the test reactions, in the shape every service declares its own."""
    return ConsumerGroup(name, ("orders.inbound.v1",), REACTIONS, context=Context, **steps)


def placed(order_id: str, qty: int = 10, subject: str | None = None) -> bytes:
    data = {
        "order_id": order_id,
        "order_number": f"N-{order_id}",
        "buyer": {"id": "b1", "name": "B"},
        "product_type": "sweater",
        "product_category": "knitwear",
        "quantity": qty,
        "currency": "USD",
        "unit_price": "5.00",
        "target_date": str(date(2030, 1, 1)),
    }
    return new_envelope("OrderPlaced", "upstream", subject or order_id, data).to_bytes()


def assigned(order_id: str) -> bytes:
    data = {"order_id": order_id, "supplier": {"id": "s1", "name": "S"}}
    return new_envelope("SupplierAssigned", "upstream", order_id, data).to_bytes()


_offset = iter(range(10**6))


def rec(value: bytes, key: str = "k") -> Record:
    return Record("orders.inbound.v1", 0, next(_offset), key.encode(), value)


@pytest.fixture
async def processor(database_url: str):  # type: ignore[no-untyped-def]
    engine = await fresh_schema(database_url, metadata)
    settings = ServiceSettings(
        database_url=database_url, parking_timeout_s=0.3, parking_retry_s=0.0
    )
    test_group = group("test-group", unblocks=frozenset({"OrderPlaced"}))
    yield BatchProcessor(test_group, make_sessionmaker(engine), plumbing, settings)
    await engine.dispose()


async def rows(p: BatchProcessor, table: Table) -> list:  # type: ignore[type-arg]
    async with p.sessions() as s:
        return list((await s.execute(select(table))).all())


async def test_batch_commits_effects_and_outbox_together(processor: BatchProcessor) -> None:
    await processor.process([rec(placed("o1")), rec(placed("o2"))])
    assert {r.id for r in await rows(processor, orders)} == {"o1", "o2"}
    outbox = await rows(processor, plumbing.outbox)
    assert [r.topic for r in outbox] == ["orders.events.v1", "orders.events.v1"]


async def test_redelivery_is_a_no_op(processor: BatchProcessor) -> None:
    value = placed("o1")
    await processor.process([rec(value)])
    await processor.process([rec(value), rec(value)])
    assert len(await rows(processor, orders)) == 1
    assert len(await rows(processor, plumbing.outbox)) == 1


async def test_malformed_and_rule_breaking_go_to_dlq_and_the_rest_flows(
    processor: BatchProcessor,
) -> None:
    bad_json = rec(b"{not json")
    bad_field = rec(placed("o9", qty=0))
    too_many = rec(placed("o8", qty=5000))
    await processor.process([bad_json, bad_field, too_many, rec(placed("o3"))])
    assert [r.id for r in await rows(processor, orders)] == ["o3"]
    dlq = [r for r in await rows(processor, plumbing.outbox) if r.topic.endswith(".dlq")]
    by_rule = {r.headers["rule"]: r.headers for r in dlq}
    assert set(by_rule) == {"malformed_json", "invalid_payload", "too_many"}
    assert "data.quantity" in by_rule["invalid_payload"]["error"]
    assert "greater than 0" in by_rule["invalid_payload"]["error"]
    assert by_rule["too_many"]["error"] == "quantity 5000 is over 1000"
    assert by_rule["malformed_json"]["original_offset"] == str(bad_json.offset)
    assert all(h["consumer_group"] == "test-group" for h in by_rule.values())
    assert all(r.topic == "orders.inbound.v1.dlq" for r in dlq)


async def test_redelivered_malformed_message_is_dead_lettered_once(
    processor: BatchProcessor,
) -> None:
    bad = rec(b"garbage")
    await processor.process([bad])
    await processor.process([bad])
    assert len([r for r in await rows(processor, plumbing.outbox) if r.topic.endswith(".dlq")]) == 1


async def test_message_for_unknown_order_is_parked_then_applied(processor: BatchProcessor) -> None:
    await processor.process([rec(assigned("o5"))])
    assert len(await rows(processor, plumbing.parked)) == 1
    await processor.process([rec(placed("o5"))])  # the order appears: parked ones retried at once
    assert await rows(processor, plumbing.parked) == []
    assert await processor.retry_parked() == 0


async def test_later_messages_of_a_parked_order_wait_behind_it(processor: BatchProcessor) -> None:
    first, second = assigned("o6"), assigned("o6")
    await processor.process([rec(first)])
    await processor.process([rec(second)])  # parked too: an earlier message of o6 waits
    parked = await rows(processor, plumbing.parked)
    assert [json.loads(r.value)["id"] for r in parked] == [
        json.loads(first)["id"],
        json.loads(second)["id"],
    ]
    await processor.process([rec(placed("o6"))])
    assert await rows(processor, plumbing.parked) == []
    assert len(await rows(processor, orders)) == 1


async def test_parked_message_goes_to_dlq_after_timeout(processor: BatchProcessor) -> None:
    await processor.process([rec(assigned("ghost"))])
    await asyncio.sleep(0.4)
    await processor.retry_parked()
    assert await rows(processor, plumbing.parked) == []
    dlq = [r for r in await rows(processor, plumbing.outbox) if r.topic.endswith(".dlq")]
    assert len(dlq) == 1
    assert dlq[0].headers["rule"] == "parking_timeout"
    assert "order ghost is not known yet" in dlq[0].headers["error"]


async def test_poison_message_is_isolated(processor: BatchProcessor) -> None:
    # the same order id twice with different content: the second insert violates the primary key
    first, second = placed("dup"), placed("dup", qty=20)
    await processor.process([rec(first), rec(second), rec(placed("ok1"))])
    assert {r.id for r in await rows(processor, orders)} == {"dup", "ok1"}
    dlq = [r for r in await rows(processor, plumbing.outbox) if r.topic.endswith(".dlq")]
    assert [r.headers["rule"] for r in dlq] == ["processing_error"]
    assert "IntegrityError" in dlq[0].headers["error"]


def test_unique_event_ids() -> None:
    assert json.loads(placed("a"))["id"] != json.loads(placed("a"))["id"]
    uuid.UUID(json.loads(placed("a"))["id"])


@pytest.fixture
async def laned(database_url: str):  # type: ignore[no-untyped-def]
    """A processor with two lanes whose handler notes what each transaction got."""
    engine = await fresh_schema(database_url, metadata)
    calls: list[list[str]] = []
    both_started = asyncio.Event()
    fail_subject: set[str] = set()

    async def noting(ctx, items):  # type: ignore[no-untyped-def]
        calls.append([i.subject for i in items])
        if len(calls) == 2:
            both_started.set()
        await asyncio.wait_for(both_started.wait(), 5)  # the lanes' transactions overlap
        if any(i.subject in fail_subject for i in items):
            raise ConnectionResetError("database went away")  # transient: not dead-lettered

    settings = ServiceSettings(database_url=database_url, kafka_batch_lanes=2, retry_max_attempts=1)
    lanes = group("lanes", preload=noting, unblocks=frozenset({"OrderPlaced"}))
    processor = BatchProcessor(lanes, make_sessionmaker(engine), plumbing, settings)
    yield processor, calls, fail_subject
    await engine.dispose()


def on(partition: int, value: bytes) -> Record:
    return Record("orders.inbound.v1", partition, next(_offset), b"k", value)


def two_lanes_apart(subjects: list[str]) -> tuple[str, str]:
    """Two of ``subjects`` that a two-lane split puts in different lanes."""
    first = subjects[0]
    return first, next(s for s in subjects if hash(s) % 2 != hash(first) % 2)


async def test_a_batch_runs_in_concurrent_lanes_by_subject(laned) -> None:  # type: ignore[no-untyped-def]
    processor, calls, _ = laned
    # an order's messages on different partitions (as from two topics) still share a lane
    batch = [on(n % 3, placed(f"o{k}-{n}", subject=f"o{k}")) for n in range(3) for k in range(8)]
    batch += [on(0, placed(f"p{n}")) for n in range(8)]  # one partition: still both lanes
    await processor.process(batch)
    assert len(calls) == 2  # one transaction per lane, both open at once (see the handler)
    lane_of = {subject: n for n, lane in enumerate(calls) for subject in lane}
    assert all(sum(subject in lane for lane in calls) == 1 for subject in lane_of)
    assert sum(len(lane) for lane in calls) == len(batch)
    assert len({lane_of[f"p{n}"] for n in range(8)}) == 2
    sent = [json.loads(r.value)["subject"] for r in batch]
    for n, lane in enumerate(calls):  # each lane keeps the batch's order
        assert lane == [subject for subject in sent if lane_of[subject] == n]
    assert len(await rows(processor, orders)) == len(batch)


async def test_a_failed_lane_fails_the_batch_after_the_other_committed(laned) -> None:  # type: ignore[no-untyped-def]
    processor, calls, fail_subject = laned
    ok, failing = two_lanes_apart([f"s{n}" for n in range(20)])
    batch = [on(0, placed(ok)), on(0, placed(failing))]
    fail_subject.add(failing)
    with pytest.raises(ConnectionResetError):
        await processor.process(batch)  # the consumer nacks: the batch comes again
    assert {r.id for r in await rows(processor, orders)} == {ok}
    fail_subject.clear()
    calls.clear()
    await processor.process(batch)  # redelivered: only what did not commit takes effect
    assert {r.id for r in await rows(processor, orders)} == {ok, failing}
    assert len(await rows(processor, plumbing.outbox)) == 2


async def test_idempotent_types_skip_the_inbox_and_reach_the_handler_again(
    database_url: str,
) -> None:
    """A type the handler deduplicates itself is not written to the inbox, so a redelivery
    reaches the handler (which must recognise it); other types still go through the inbox."""
    engine = await fresh_schema(database_url, metadata)
    seen: list[str] = []

    async def noting(ctx, items):  # type: ignore[no-untyped-def]
        seen.extend(i.type for i in items)

    own = ConsumerGroup(
        "own-dedup",
        ("orders.inbound.v1",),
        {"OrderPlaced": on_placed},
        context=Context,
        preload=noting,
        idempotent=frozenset({"SupplierAssigned"}),
    )
    settings = ServiceSettings(database_url=database_url)
    p = BatchProcessor(own, make_sessionmaker(engine), plumbing, settings)
    batch = [rec(placed("o1")), rec(assigned("o1"))]
    await p.process(batch)
    await p.process(batch)  # redelivered
    assert seen == ["OrderPlaced", "SupplierAssigned", "SupplierAssigned"]
    inbox = await rows(p, plumbing.inbox)
    assert [r.event_id for r in inbox] == [json.loads(batch[0].value)["id"]]
    await engine.dispose()
