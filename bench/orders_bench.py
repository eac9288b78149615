"""Orders throughput: upstream ``OrderPlaced`` messages/s ingested end to end
(parsed, validated, order + status history persisted, events in the outbox, committed).

    DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/orders_bench.py [orders] [batch]

Uses a scratch database on that server (dropped afterwards) and the service's own batch
handler through ``BatchProcessor.process`` — the path a consumed Kafka batch takes.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import looptrace_orders
from looptrace_orders.config import OrdersSettings
from looptrace_orders.handlers import consumer_groups
from looptrace_orders.models import plumbing
from looptrace_shared.db import make_engine, make_sessionmaker
from looptrace_shared.envelope import new_envelope
from looptrace_shared.messaging.consumer import BatchProcessor
from looptrace_shared.messaging.incoming import Record
from looptrace_shared.migrations import migrate
from looptrace_shared.runtime import Runtime
from looptrace_shared.testing import scratch_database


def order_placed(i: int) -> tuple[str, bytes]:
    oid = str(uuid.uuid4())
    data = {
        "order_id": oid,
        "order_number": f"PO-{i:08d}-{oid[:4]}",
        "buyer": {"id": f"b-{i % 50}", "name": "Buyer", "email": "buyer@x.example"},
        "product_type": "tee",
        "product_category": "cut-and-sew",
        "quantity": 100 + i % 900,
        "currency": "USD",
        "unit_price": "4.20",
        "supplier_cost": "3.10",
        "target_date": str(date.today() + timedelta(days=60 + i % 90)),
    }
    return oid, new_envelope("OrderPlaced", "bench", oid, data).to_bytes()


async def run(url: str, n: int, batch: int) -> None:
    await asyncio.to_thread(migrate, url, Path(looptrace_orders.__file__).parent / "migrations")
    engine = make_engine(url)
    settings = OrdersSettings(database_url=url)
    sessions = make_sessionmaker(engine)
    rt = Runtime(settings, engine, sessions, plumbing)
    processor = BatchProcessor(consumer_groups(rt)[0], sessions, plumbing, settings)
    values = [order_placed(i) for i in range(n)]
    started = time.perf_counter()
    for i in range(0, n, batch):
        chunk = values[i : i + batch]
        await processor.process(
            [Record("orders.inbound.v1", 0, i + j, k.encode(), v) for j, (k, v) in enumerate(chunk)]
        )
    elapsed = time.perf_counter() - started
    async with engine.connect() as conn:
        from sqlalchemy import text

        orders = await conn.scalar(text("SELECT count(*) FROM orders.orders"))
        events = await conn.scalar(text("SELECT count(*) FROM orders.outbox"))
    await engine.dispose()
    print(
        f"OrderPlaced: {n} messages in {elapsed:.2f}s = {n / elapsed:,.0f} msgs/s "
        f"(batches of {batch}; {orders} orders, {events} events in the outbox)"
    )


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    batch = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    server = os.environ.get("DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    with scratch_database(server, "looptrace_bench") as url:
        asyncio.run(run(url, n, batch))


if __name__ == "__main__":
    main()
