"""Retention: completed orders moved to cold storage (rows/s), and the read latency of an
archived order against a live one.

    DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/retention_bench.py [orders] [batch] [reads]

Uses a scratch database on that server (dropped afterwards). It fills the orders schema with
``orders`` completed orders (default 100 000), each with its seven status moves, one shipment
with one ETA update and two invoices, all completed three years ago, plus as many live ones;
then times ``looptrace_orders.retention.run`` (batches of ``batch`` orders per transaction) and
reads ``reads`` orders of each kind through the same repository calls the HTTP routes make
(order by id, its history, shipments, shipment updates and invoices).
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import text

import looptrace_orders
from looptrace_orders import repository as repo
from looptrace_orders.archive import archived
from looptrace_orders.config import OrdersSettings
from looptrace_orders.invoicing import invoices_of
from looptrace_orders.retention import run as run_retention
from looptrace_shared.db import make_engine, make_sessionmaker
from looptrace_shared.migrations import migrate
from looptrace_shared.testing import scratch_database

STEPS = ["placed", "assigned_to_supplier", "in_production", "quality_check", "shipped",
         "delivered", "completed"]  # fmt: skip

FILL = """
INSERT INTO orders.orders (id, order_number, buyer_id, buyer_name, product_type,
  product_category, quantity, currency, unit_price, supplier_unit_cost, target_date,
  has_print, supplier_id, workflow_status, version, created_at, updated_at)
SELECT :p || i, 'PO-' || :p || i, 'b-' || (i % 50), 'Buyer', 'tee', 'knitwear', 100, 'EUR',
  3.5, 2.1, current_date, true, 's-' || (i % 20), :status, 1, now() - CAST(:age AS interval), now() - CAST(:age AS interval)
FROM generate_series(1, :n) i;
INSERT INTO orders.status_history (order_id, from_status, to_status, at, cause)
SELECT :p || i, (ARRAY[NULL, {steps}])[s], (ARRAY[{steps}])[s],
  now() - CAST(:age AS interval) + make_interval(days => s), 'bench'
FROM generate_series(1, :n) i, generate_series(1, 7) s;
INSERT INTO orders.shipments (order_id, carrier, tracking_number, quantity, shipped_at,
  estimated_arrival, mode, port_of_loading, port_of_discharge)
SELECT :p || i, 'CMA', 'T' || i, 100, now() - CAST(:age AS interval), current_date, 'sea', 'VNSGN', 'DEHAM'
FROM generate_series(1, :n) i;
INSERT INTO orders.shipment_updates (shipment_id, order_id, estimated_arrival, cause)
SELECT s.id, s.order_id, current_date, 'bench' FROM orders.shipments s
WHERE s.order_id LIKE :p || '%';
INSERT INTO orders.invoices (number, order_id, shipment_id, kind, status, currency,
  unit_amount, quantity, amount, created_at)
SELECT k || '-' || :p || s.id, s.order_id, s.id, kind, 'paid', 'EUR', u, 100, u * 100, now()
FROM orders.shipments s, (VALUES ('INV', 'buyer', 3.5), ('SUP', 'supplier', 2.1)) v(k, kind, u)
WHERE s.order_id LIKE :p || '%';
"""


async def fill(url: str, prefix: str, n: int, status: str, age: timedelta) -> None:
    engine = make_engine(url, pool_size=1)
    sql = FILL.format(steps=", ".join(f"'{s}'" for s in STEPS))
    async with engine.begin() as conn:
        for statement in filter(str.strip, sql.split(";")):
            params = {"p": prefix, "n": n, "status": status, "age": age}
            used = {k: v for k, v in params.items() if f":{k}" in statement}
            await conn.execute(text(statement), used)
    await engine.dispose()


async def read_latency(url: str, ids: list[str]) -> tuple[list[float], bool]:
    engine = make_engine(url, pool_size=1)
    sessions = make_sessionmaker(engine)
    took, all_archived = [], True
    for oid in ids:
        async with sessions() as session:
            started = time.perf_counter()
            order = await repo.find_order(session, oid)
            assert order is not None
            old = archived(order)
            await repo.history(session, order.id, old)
            await repo.shipments(session, order.id, old)
            await repo.shipment_updates(session, order.id, old)
            await invoices_of(session, order.id, old)
            took.append((time.perf_counter() - started) * 1000)
            all_archived &= old
    await engine.dispose()
    return took, all_archived


def quantiles(ms: list[float]) -> str:
    q = statistics.quantiles(ms, n=20)
    return f"p50 {statistics.median(ms):.2f} ms, p95 {q[18]:.2f} ms"


async def run(url: str, n: int, batch: int, reads: int) -> None:
    await asyncio.to_thread(migrate, url, Path(looptrace_orders.__file__).parent / "migrations")
    started = time.perf_counter()
    await fill(url, "old-", n, "completed", timedelta(days=3 * 365))
    await fill(url, "live-", n, "in_production", timedelta(days=10))
    engine = make_engine(url, pool_size=1)
    async with engine.connect() as conn:
        await conn.execute(text("ANALYZE"))  # as autovacuum would have by then
    await engine.dispose()
    print(f"filled {2 * n} orders in {time.perf_counter() - started:.1f} s", flush=True)
    settings = OrdersSettings(database_url=url, retention_batch=batch)
    engine = make_engine(url, pool_size=1)
    started = time.perf_counter()
    report = await run_retention(engine, settings)
    elapsed = time.perf_counter() - started
    await engine.dispose()
    rows = sum(report.rows.values())
    print(
        f"retention: {report.orders} orders, {rows} rows moved in {elapsed:.2f} s = "
        f"{rows / elapsed:,.0f} rows/s ({report.orders / elapsed:,.0f} orders/s; batches of "
        f"{batch}; {report.rows})",
        flush=True,
    )
    pick = random.Random(1)
    old = [f"old-{pick.randint(1, n)}" for _ in range(reads)]
    live = [f"live-{pick.randint(1, n)}" for _ in range(reads)]
    await read_latency(url, old[:20] + live[:20])  # warm the pool and the caches alike
    old_ms, all_old = await read_latency(url, old)
    live_ms, any_old = await read_latency(url, live)
    assert all_old and not any_old
    print(
        f"read an archived order (order + history + shipments + updates + invoices): {quantiles(old_ms)}"
    )
    print(f"read a live order (the same calls): {quantiles(live_ms)}")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    batch = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    reads = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    server = os.environ.get("DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    with scratch_database(server, "looptrace_bench") as url:
        asyncio.run(run(url, n, batch, reads))


if __name__ == "__main__":
    main()
