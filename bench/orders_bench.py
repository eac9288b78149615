"""Orders throughput: messages/s ingested end to end (parsed, validated, orders + status
history persisted, events in the outbox, committed).

    DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/orders_bench.py [orders] [batch] [placed|mix]

``placed`` (the default): one upstream ``OrderPlaced`` per order. ``mix``: each order's life
as the service hears it, five messages from two topics: ``OrderPlaced``, ``SupplierAssigned``,
production's ``stage_started``, ``stage_delayed`` and a ``plan_reforecast`` back on track.
They are interleaved so that an order's next message mostly comes in a later batch (the
order is read back from the database), sometimes in the same one.

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

from pipeline_probes import proc_stat
from sqlalchemy import text

import looptrace_orders
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
from looptrace_shared.testing import scratch_database
from looptrace_shared.topics import ORDERS_INBOUND


def order_placed(i: int) -> tuple[str, str, bytes]:
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
    return ORDERS_INBOUND, oid, new_envelope("OrderPlaced", "bench", oid, data).to_bytes()


def later(type_: str, oid: str, **data: object) -> tuple[str, str, bytes]:
    spec = event_spec(type_)
    payload = {**example_data(spec.model), "order_id": oid, **data}
    return spec.topic, oid, new_envelope(type_, "bench", oid, payload).to_bytes()


def life(i: int) -> list[tuple[str, str, bytes]]:
    placed = order_placed(i)
    oid = placed[1]
    target = str(date.today() + timedelta(days=60 + i % 90))
    return [
        placed,
        later("SupplierAssigned", oid),
        later("production.stage_started", oid),
        later("production.stage_delayed", oid),
        later("production.plan_reforecast", oid, projected_completion=target, target_date=target),
    ]


def messages(n: int, batch: int, mode: str) -> list[tuple[str, str, bytes]]:
    """``mix``: message k of order i at slot i + k * batch / 2 (mostly a later batch)."""
    if mode == "placed":
        return [order_placed(i) for i in range(n)]
    lag = max(1, batch // 2)
    slots = [(i + k * lag, k, m) for i in range(n) for k, m in enumerate(life(i))]
    return [m for *_, m in sorted(slots, key=lambda s: (s[0], s[1]))]


async def run(url: str, n: int, batch: int, mode: str) -> None:
    await asyncio.to_thread(migrate, url, Path(looptrace_orders.__file__).parent / "migrations")
    engine = make_engine(url)
    settings = OrdersSettings(database_url=url)
    sessions = make_sessionmaker(engine)
    rt: Runtime[OrdersSettings, None] = Runtime(settings, engine, sessions, plumbing)
    processor = BatchProcessor(consumer_groups(rt)[0], sessions, plumbing, settings)
    values = messages(n, batch, mode)
    started, cpu = time.perf_counter(), time.process_time()
    for i in range(0, len(values), batch):
        chunk = values[i : i + batch]
        await processor.process(
            [Record(t, 0, i + j, k.encode(), v) for j, (t, k, v) in enumerate(chunk)]
        )
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    async with engine.connect() as conn:
        backends = (await conn.execute(text(BACKENDS))).scalars().all()
        states = (await conn.execute(text(STATES))).all()
        history = await conn.scalar(text("SELECT count(*) FROM orders.status_history"))
        events = await conn.scalar(text("SELECT count(*) FROM orders.outbox"))
    await engine.dispose()
    pg = sum(s[0] for pid in backends if (s := proc_stat(pid)))
    orders = ", ".join(f"{k} {s}" for s, k in states)
    what = "OrderPlaced" if mode == "placed" else "mix (5 per order)"
    print(
        f"{what}: {len(values)} messages in {elapsed:.2f}s = {len(values) / elapsed:,.0f} "
        f"msgs/s (batches of {batch}; orders: {orders}; {history} history rows, {events} "
        "events in the outbox)"
    )
    per = 1e6 / len(values)
    # the pool's backends as pg_stat_activity lists them at the end: some runs find none
    db = f"{pg * per:,.0f} µs" if pg else "not measured"
    print(
        f"CPU per message: this process {cpu * per:,.0f} µs, its PostgreSQL backends {db} "
        f"(load average {os.getloadavg()[0]:.1f})"
    )


# every connection of the run's pool (the backends' CPU includes their start)
BACKENDS = "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
STATES = "SELECT workflow_status, count(*) FROM orders.orders GROUP BY 1 ORDER BY 1"


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    batch = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    mode = sys.argv[3] if len(sys.argv) > 3 else "placed"
    if mode not in ("placed", "mix"):
        sys.exit(f"mode: placed or mix, not {mode!r}")
    server = os.environ.get("DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    with scratch_database(server, "looptrace_bench") as url:
        asyncio.run(run(url, n, batch, mode))


if __name__ == "__main__":
    main()
