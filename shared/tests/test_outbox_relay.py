"""The outbox relay against a real broker and PostgreSQL: every row once, per key in order."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.partitioner import DefaultPartitioner
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from looptrace_shared.db import (
    DeadLetter,
    UnitOfWork,
    make_sessionmaker,
    plumbing_tables,
    service_metadata,
)
from looptrace_shared.envelope import encode_envelope
from looptrace_shared.messaging.kafka import ensure_topics, make_producer
from looptrace_shared.messaging.outbox import OutboxRelay
from looptrace_shared.settings import ServiceSettings
from looptrace_shared.testing import fresh_schema

pytestmark = pytest.mark.integration

SCHEMA = "relay_test"
plumbing = plumbing_tables(service_metadata(SCHEMA))


async def fresh_outbox(
    database_url: str, kafka_bootstrap: str, *topics: str
) -> tuple[ServiceSettings, AsyncEngine]:
    """The topics created, and an empty outbox table in a schema of its own."""
    settings = ServiceSettings(database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap)
    await ensure_topics(settings, list(topics))
    return settings, await fresh_schema(database_url, plumbing.outbox.metadata)


async def emit_events(sessions: async_sessionmaker[AsyncSession], topic: str, count: int) -> None:
    """``count`` events for ``topic`` committed to the outbox (keys k0, k1, …)."""
    async with sessions() as session:
        uow = UnitOfWork(session, plumbing)
        for n in range(count):
            uow.emit(encode_envelope("t.happened", "test", f"k{n}", {"n": n}), topic)
        await uow.commit()


async def test_rows_are_published_once_in_order_per_key_on_the_keys_partition(
    database_url: str, kafka_bootstrap: str
) -> None:
    topic = f"relay.test.{uuid.uuid4().hex[:8]}.v1"
    settings, engine = await fresh_outbox(database_url, kafka_bootstrap, topic, f"{topic}.dlq")
    sessions = make_sessionmaker(engine)
    keys = [f"order-{n}" for n in range(7)]
    sent: list[tuple[str, int]] = []  # (key, sequence) in emission order
    async with sessions() as session:
        uow = UnitOfWork(session, plumbing)
        for n in range(1500):  # several record batches per partition
            key = keys[n % len(keys)]
            filler = "x" * (400_000 if n == 700 else 10)  # one larger than a record batch
            data = {"n": n, "filler": filler}
            uow.emit(encode_envelope("t.happened", "test", key, data, ("corr", "cause")), topic)
            sent.append((key, n))
        letter = DeadLetter(topic, 0, 1, None, b"not json", "bad", "malformed_json", "g")
        uow.dead_letter(letter)  # no key
        await uow.commit()

    producer = make_producer(settings)
    await producer.start()
    relay = OutboxRelay(sessions, plumbing, producer, "test", batch=400)
    try:
        while await relay.relay_once():
            pass
    finally:
        await producer.stop()
    async with sessions() as session:
        assert list(await session.scalars(select(plumbing.outbox.c.id))) == []
    await engine.dispose()

    consumer = AIOKafkaConsumer(
        topic,
        f"{topic}.dlq",
        bootstrap_servers=kafka_bootstrap,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=2_000_000,
        fetch_max_bytes=4_000_000,
    )
    await consumer.start()
    got: list = []  # type: ignore[type-arg]
    try:
        deadline = asyncio.get_running_loop().time() + 30
        while len(got) < len(sent) + 1 and asyncio.get_running_loop().time() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                got.extend(records)
    finally:
        await consumer.stop()

    events = [r for r in got if r.topic == topic]
    assert len(events) == len(sent)  # each row once
    partitions = sorted({r.partition for r in events} | set(range(settings.kafka_partitions)))
    for key in keys:
        mine = [r for r in events if r.key == key.encode()]
        expected = DefaultPartitioner()(key.encode(), partitions, partitions)
        assert {r.partition for r in mine} == {expected}
        mine.sort(key=lambda r: r.offset)
        assert [json.loads(r.value)["data"]["n"] for r in mine] == [n for k, n in sent if k == key]
    assert all(dict(r.headers)["type"] == b"t.happened" for r in events)
    assert all(dict(r.headers)["correlation_id"] == b"corr" for r in events)
    assert any(len(r.value) > 400_000 for r in events)
    (dead,) = [r for r in got if r.topic == f"{topic}.dlq"]
    assert dead.value == b"not json" and dict(dead.headers)["rule"] == b"malformed_json"


async def test_rows_stay_in_the_outbox_when_publishing_fails(
    database_url: str, kafka_bootstrap: str
) -> None:
    topic = f"relay.fail.{uuid.uuid4().hex[:8]}.v1"
    settings, engine = await fresh_outbox(database_url, kafka_bootstrap, topic)
    sessions = make_sessionmaker(engine)
    await emit_events(sessions, topic, 5)

    async def outbox_ids() -> list[int]:
        async with sessions() as session:
            return list(await session.scalars(select(plumbing.outbox.c.id)))

    before = await outbox_ids()
    closed = make_producer(settings)
    await closed.start()
    await closed.stop()  # sending now fails
    with pytest.raises(Exception):  # noqa: B017 - whatever aiokafka raises for a closed producer
        await OutboxRelay(sessions, plumbing, closed, "test").relay_once()
    assert await outbox_ids() == before  # the delete was rolled back

    producer = make_producer(settings)
    await producer.start()
    try:
        assert await OutboxRelay(sessions, plumbing, producer, "test").relay_once() == 5
    finally:
        await producer.stop()
    assert await outbox_ids() == []
    await engine.dispose()


async def test_a_relay_takes_nothing_while_another_relay_of_the_schema_holds_the_lock(
    database_url: str, kafka_bootstrap: str
) -> None:
    topic = f"relay.lock.{uuid.uuid4().hex[:8]}.v1"
    settings, engine = await fresh_outbox(database_url, kafka_bootstrap, topic)
    sessions = make_sessionmaker(engine)
    await emit_events(sessions, topic, 3)
    producer = make_producer(settings)
    await producer.start()
    relay = OutboxRelay(sessions, plumbing, producer, "test")
    try:
        async with sessions() as other, other.begin():  # another replica's relay, mid-round
            await other.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": relay._lock_id})
            assert await relay.relay_once() == 0
            left = await other.scalar(select(func.count()).select_from(plumbing.outbox))
            assert left == 3
        assert await relay.relay_once() == 3  # the lock is free again
    finally:
        await producer.stop()
    await engine.dispose()
