"""Production throughput: progress messages/s through the batch processor (no broker: see
production_kafka_bench.py for one service process on a real broker).

    DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python bench/production_bench.py [orders] [rounds] [--batch=N] [--lanes=N]
        [--cold] [--profile]

Uses a scratch database on that server (dropped afterwards). 10 000 orders are planned
(order.supplier_assigned), then ``rounds`` progress reports per order are fed through
BatchProcessor.process in batches of the service's KAFKA_MAX_BATCH records (``--batch=N``),
keyed by order id over six partitions as a consumer fetches them, each batch split into the
service's KAFKA_BATCH_LANES concurrent transactions (``--lanes=N``): parse, inbox, lock plans
(versions only: decoded plans come from the handler's plan cache), validate + apply, progress
log, one UPDATE for all changed plans, outbox rows, commit. ``--cold``: no plan cache for
the progress (every plan read and decoded per batch). ``--profile`` also writes
/tmp/production_bench.prof.
"""

from __future__ import annotations

import asyncio
import cProfile
import os
import pstats
import sys
import time
import uuid
import zlib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import looptrace_production
from looptrace_production.app import tune_gc
from looptrace_production.config import ProductionSettings
from looptrace_production.handlers import consumer_group
from looptrace_production.models import plumbing
from looptrace_production.plan_cache import PlanCache
from looptrace_production.services import Planning
from looptrace_production.templates import load_templates
from looptrace_shared.db import make_engine, make_sessionmaker
from looptrace_shared.envelope import new_envelope
from looptrace_shared.events.orders import OrderSupplierAssigned, Party
from looptrace_shared.messaging.consumer import BatchProcessor
from looptrace_shared.messaging.incoming import Record
from looptrace_shared.migrations import migrate
from looptrace_shared.testing import scratch_database

MIGRATIONS = Path(looptrace_production.__file__).parent / "migrations"
BATCH = ProductionSettings().kafka_max_batch  # records per batch, as the service; --batch=N
LANES = ProductionSettings().kafka_batch_lanes  # transactions per batch, as the service; --lanes=N


def assignment(oid: str, target: date) -> bytes:
    data = OrderSupplierAssigned(
        order_id=oid,
        order_number=f"PO-{oid[:12]}",
        buyer=Party(id="b", name="B"),
        product_category="cut-and-sew",
        quantity=1000,
        target_date=target,
        supplier=Party(id="s", name="S"),
        assigned_by="bench",
    )
    return new_envelope("order.supplier_assigned", "bench", oid, data).to_bytes()


def progress(oid: str, n: int, base: datetime) -> bytes:
    stage, pct = n // 4 + 1, (n % 4 + 1) * 25  # 25, 50, 75, 100 per stage
    data = {
        "order_id": oid,
        "stage": stage,
        "percentage": pct,
        "reported_at": (base + timedelta(seconds=n)).isoformat(),
        "notes": "ok",
    }
    return new_envelope("ProgressReported", "bench", oid, data).to_bytes()


PARTITIONS = 6  # as the service creates its topics (KAFKA_PARTITIONS)


def records(topic: str, values: list[tuple[str, bytes]], start: int) -> list[Record]:
    """Records as one consumer fetches them: keyed by order id, spread over the partitions."""
    return [
        Record(topic, zlib.crc32(k.encode()) % PARTITIONS, start + i, k.encode(), v)
        for i, (k, v) in enumerate(values)
    ]


async def feed(processor: BatchProcessor, topic: str, values: list[tuple[str, bytes]]) -> float:
    started = time.perf_counter()
    for i in range(0, len(values), BATCH):
        await processor.process(records(topic, values[i : i + BATCH], i))
    return time.perf_counter() - started


async def run(url: str, n_orders: int, rounds: int, profile: bool, cold: bool) -> None:
    await asyncio.to_thread(migrate, url, MIGRATIONS)
    settings = ProductionSettings(database_url=url, kafka_batch_lanes=LANES)
    engine = make_engine(url, 4)
    tune_gc(settings)  # as the production process does at start-up
    cache = PlanCache()
    group = consumer_group(Planning(settings, load_templates(), plans=cache))
    processor = BatchProcessor(group, make_sessionmaker(engine), plumbing, settings)
    ids = [str(uuid.uuid4()) for _ in range(n_orders)]
    target = date.today() + timedelta(days=200)
    took = await feed(
        processor, "orders.events.v1", [(oid, assignment(oid, target)) for oid in ids]
    )
    print(f"planned {n_orders} orders in {took:.2f}s ({n_orders / took:,.0f} orders/s)")
    base = datetime.now(UTC) - timedelta(days=1)
    values = [(oid, progress(oid, n, base)) for n in range(rounds) for oid in ids]
    if cold:
        cache.size = 0
        cache.clear()
    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    took = await feed(processor, "production.progress.v1", values)
    if profiler:
        profiler.disable()
        profiler.dump_stats("/tmp/production_bench.prof")
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    async with engine.connect() as c:
        from sqlalchemy import text

        logged = (await c.execute(text("SELECT count(*) FROM production.progress_log"))).scalar()
        outbox = (await c.execute(text("SELECT count(*) FROM production.outbox"))).scalar()
        dead = (
            await c.execute(text("SELECT count(*) FROM production.outbox WHERE topic LIKE '%.dlq'"))
        ).scalar()
    await engine.dispose()
    print(
        f"progress: {len(values)} messages in {took:.2f}s = {len(values) / took:,.0f} msgs/s "
        f"(batches of {BATCH}, {n_orders} orders in flight)"
    )
    print(f"progress_log rows {logged}, outbox rows {outbox} (dead letters {dead})")
    print(f"plan cache: {cache.hits} hits, {cache.misses} misses")
    assert logged == len(values) and dead == 0


def main() -> None:
    global BATCH, LANES
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    for option in sys.argv[1:]:
        if option.startswith("--batch="):
            BATCH = int(option.split("=", 1)[1])
        if option.startswith("--lanes="):
            LANES = int(option.split("=", 1)[1])
    n_orders = int(args[0]) if args else 10_000
    rounds = int(args[1]) if len(args) > 1 else 4
    server = os.environ.get("DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    with scratch_database(server, "production_bench") as url:
        asyncio.run(run(url, n_orders, rounds, "--profile" in sys.argv, "--cold" in sys.argv))


if __name__ == "__main__":
    main()
