"""A consumed batch's orders written as sets, against a real PostgreSQL: one order's messages
in one batch apply in order, an order read back in a later batch is updated once per batch,
a redelivered batch writes nothing twice, a shipment in the batch that placed its order
finds the order written, and a row changed under the batch is not overwritten."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

import looptrace_orders
from looptrace_orders.batch_store import BatchStore, ConcurrentUpdate
from looptrace_orders.config import OrdersSettings
from looptrace_orders.handlers import consumer_groups
from looptrace_orders.models import plumbing
from looptrace_shared.contracts.examples import example_data
from looptrace_shared.db import make_engine, make_sessionmaker
from looptrace_shared.envelope import new_envelope
from looptrace_shared.events import event_spec
from looptrace_shared.messaging.consumer import BatchProcessor
from looptrace_shared.messaging.incoming import Record
from looptrace_shared.migrations import migrate
from looptrace_shared.runtime import Runtime

pytestmark = pytest.mark.integration

MIGRATIONS = Path(looptrace_orders.__file__).parent / "migrations"
TARGET = str(date.today() + timedelta(days=60))
_offsets = itertools.count()


Fixture = tuple[BatchProcessor, Runtime[Any, Any]]


@pytest.fixture(scope="module")
async def processor(database_url: str) -> AsyncIterator[Fixture]:
    await asyncio.to_thread(migrate, database_url, MIGRATIONS)
    settings = OrdersSettings(database_url=database_url)
    engine = make_engine(database_url, pool_size=2)
    rt: Runtime[Any, Any] = Runtime(settings, engine, make_sessionmaker(engine), plumbing)
    (group,) = consumer_groups(rt)
    yield BatchProcessor(group, rt.sessions, plumbing, settings), rt
    await engine.dispose()


def record(type_: str, oid: str, **data: Any) -> Record:
    spec = event_spec(type_)
    payload = {**example_data(spec.model), "order_id": oid, **data}
    value = new_envelope(type_, "test", oid, payload).to_bytes()
    return Record(spec.topic, 0, next(_offsets), oid.encode(), value)


def placed(oid: str) -> Record:
    return record("OrderPlaced", oid, order_number=f"PO-{oid}", target_date=TARGET)


def life(oid: str) -> list[Record]:
    """Placed, assigned, started, late, back on track: five moves."""
    return [
        placed(oid),
        record("SupplierAssigned", oid),
        record("production.stage_started", oid),
        record("production.stage_delayed", oid),
        record("production.plan_reforecast", oid, projected_completion=TARGET, target_date=TARGET),
    ]


MOVES = [
    (None, "placed"),
    ("placed", "assigned_to_supplier"),
    ("assigned_to_supplier", "in_production"),
    ("in_production", "delayed"),
    ("delayed", "in_production"),
]
CHANGED = "order.status_changed"
EVENTS = [CHANGED, "order.created", CHANGED, "order.supplier_assigned", CHANGED, CHANGED, CHANGED]


async def state(rt: Runtime[Any, Any], oid: str) -> dict[str, Any]:
    async with rt.engine.connect() as conn:
        order = (
            await conn.execute(text("SELECT * FROM orders.orders WHERE id = :o"), {"o": oid})
        ).one()
        history = (
            await conn.execute(
                text(
                    "SELECT from_status, to_status FROM orders.status_history"
                    " WHERE order_id = :o ORDER BY id"
                ),
                {"o": oid},
            )
        ).all()
        events = (
            await conn.execute(
                text(
                    "SELECT headers->>'type' FROM orders.outbox"
                    " WHERE key = convert_to(:o, 'UTF8') ORDER BY id"
                ),
                {"o": oid},
            )
        ).all()
    return {
        "order": order._mapping,
        "history": [tuple(h) for h in history],
        "events": [e[0] for e in events],
    }


async def test_one_orders_messages_in_one_batch_apply_in_order(processor: Fixture) -> None:
    batch, rt = processor
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    # the two orders' messages interleaved, as lanes and topics deliver them
    records = [m for pair in zip(life(a), life(b), strict=True) for m in pair]
    await batch.process(records)
    for oid in (a, b):
        got = await state(rt, oid)
        assert got["order"]["workflow_status"] == "in_production"
        assert got["order"]["supplier_id"] == "sup-7"
        assert got["order"]["version"] == 1  # inserted once, with the batch's last state
        assert got["history"] == MOVES
        assert got["events"] == EVENTS


async def test_an_order_read_back_batch_after_batch_moves_on(processor: Fixture) -> None:
    batch, rt = processor
    oid = str(uuid.uuid4())
    messages = life(oid)
    for one in messages:  # each message a batch of its own: read back every time
        await batch.process([one])
    got = await state(rt, oid)
    assert got["order"]["workflow_status"] == "in_production"
    assert got["order"]["version"] == 5  # one UPDATE per batch that changed it
    assert got["history"] == MOVES


async def test_a_redelivered_batch_writes_nothing_twice(processor: Fixture) -> None:
    batch, rt = processor
    oid = str(uuid.uuid4())
    records = life(oid)
    await batch.process(records[:3])
    first = await state(rt, oid)
    await batch.process(records[:3])  # the same batch again (its offsets were not committed)
    assert await state(rt, oid) == first
    await batch.process(records)  # and again, with the rest of the order's messages
    got = await state(rt, oid)
    assert got["history"] == MOVES
    # late and back on track within one batch: history and events, but the row as it was
    assert got["order"]["version"] == 1 and got["order"]["workflow_status"] == "in_production"
    assert got["events"] == EVENTS


async def test_an_order_placed_and_shipped_in_one_batch(processor: Fixture) -> None:
    """The order is written before its shipment, which refers to it."""
    batch, rt = processor
    oid = str(uuid.uuid4())
    gate = record("production.quality_gate_passed", oid, inspection_ids=["i-1"])
    shipped = record("OrderShipped", oid, quantity_shipped=500)
    await batch.process([placed(oid), record("SupplierAssigned", oid), gate, shipped])
    got = await state(rt, oid)
    assert got["order"]["workflow_status"] == "shipped"
    assert got["history"][-1] == ("quality_check", "shipped")
    async with rt.engine.connect() as conn:
        q = text("SELECT quantity FROM orders.shipments WHERE order_id = :o")
        assert (await conn.execute(q, {"o": oid})).scalars().all() == [500]


async def test_an_order_changed_under_the_batch_is_not_overwritten(processor: Fixture) -> None:
    batch, rt = processor
    oid = str(uuid.uuid4())
    await batch.process([placed(oid)])
    async with rt.sessions() as session:
        store = BatchStore()
        (order,) = await store.load(session, [oid])
        # another writer's change, as an HTTP route's UPDATE would make it
        await session.execute(
            text("UPDATE orders.orders SET version = version + 1, notes = 'theirs' WHERE id = :o"),
            {"o": oid},
        )
        order.notes = "ours"
        with pytest.raises(ConcurrentUpdate):
            await store.write(session)
        await session.rollback()
    assert (await state(rt, oid))["order"]["notes"] == "line 3"
