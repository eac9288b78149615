"""Production throughput through a real broker: one service process, Kafka in, Kafka out.

    DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/production_kafka_bench.py [orders] [rounds]

Starts the embedded broker (tansu) and the production service as its own process (as
``looptrace serve production`` runs it: FastStream batch consumers, the outbox relay, HTTP),
on a scratch database. 10 000 orders are assigned and planned, and get one progress report
each (so their plans are in the service's plan cache, as for orders a running service has
seen). Then ``rounds`` more reports per order are produced to production.progress.v1 as fast
as this process can, while the service consumes them. Measured from the first message
produced until the last is in the progress log, and until the outbox is empty, i.e. every
event the service emitted is published on production.events.v1. The producing shares the
machine with the service, PostgreSQL and the broker. Also printed: the CPU seconds the service
process and its PostgreSQL backends spent over that time, per message (from /proc): on a loaded
machine the wall clock says little, these still compare two versions run in turn.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer
from pipeline_probes import proc_stat
from production_bench import assignment, progress  # the same messages as the handler bench
from sqlalchemy.engine import make_url

from looptrace_shared.embedded import free_port, start_tansu
from looptrace_shared.messaging.kafka import KeyHashCache, ensure_topics
from looptrace_shared.settings import ServiceSettings
from looptrace_shared.system import EMBEDDED_KAFKA_ENV, System
from looptrace_shared.testing import scratch_database
from looptrace_shared.topics import ORDERS_EVENTS, PRODUCTION_PROGRESS


async def produce(bootstrap: str, topic: str, values: list[tuple[str, bytes]]) -> None:
    """Publish keyed by order id, each key on the default partitioner's partition, as record
    batches (a ``send`` per message would make this process compete with the service)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        partitions = sorted(await producer.partitions_for(topic))
        partition_of = KeyHashCache()
        batches: dict[int, Any] = {}
        futures = []
        for k, v in values:
            key = k.encode()
            n = partition_of(key, partitions, partitions)
            batch = batches.get(n)
            if batch is None or batch.append(key=key, value=v, timestamp=None) is None:
                if batch is not None:
                    futures.append(await producer.send_batch(batch, topic, partition=n))
                batch = batches[n] = producer.create_batch()
                batch.append(key=key, value=v, timestamp=None)
        for n, batch in batches.items():
            futures.append(await producer.send_batch(batch, topic, partition=n))
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


class Counts:
    """(plans, progress log rows, outbox rows), polled cheaply. The progress log is counted
    above a watermark that trails its highest id by ``MARGIN`` (rows below it are counted
    once: ids are taken at insert, so a row may commit after a higher one, but not that much
    later); the plans are counted only until every order is planned."""

    MARGIN = 20_000

    def __init__(self, url: str, expected_plans: int) -> None:
        u = make_url(url)
        self.dsn = f"postgresql://{u.username}@{u.host}:{u.port or 5432}/{u.database}"
        self.below, self.watermark = 0, 0
        self.plans, self.expected_plans = -1, expected_plans

    async def __call__(self) -> tuple[int, int, int]:
        c = await asyncpg.connect(self.dsn)
        try:
            log = "SELECT count(*), max(id) FROM production.progress_log WHERE id > $1"
            above, top = await c.fetchrow(log, self.watermark)
            logged = self.below + above
            if top is not None and top - self.MARGIN > self.watermark:
                mark = top - self.MARGIN
                self.below += await c.fetchval(
                    "SELECT count(*) FROM production.progress_log WHERE id > $1 AND id <= $2",
                    self.watermark,
                    mark,
                )
                self.watermark = mark
            if self.plans != self.expected_plans:
                self.plans = await c.fetchval("SELECT count(*) FROM production.supplier_orders")
            outbox = await c.fetchval("SELECT count(*) FROM production.outbox")
            return self.plans, logged, outbox
        finally:
            await c.close()


async def wait_until(counts: Counts, done, timeout: float, what: str) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = await counts()
        if done(now):
            return now
        await asyncio.sleep(0.05)
    raise TimeoutError(f"{what}: still {now} after {timeout:.0f}s")


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n_orders = int(args[0]) if args else 10_000
    rounds = int(args[1]) if len(args) > 1 else 4
    server = os.environ.get("DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    home = Path(tempfile.mkdtemp(prefix="production_kafka_bench_"))
    broker = start_tansu(None, home / "tansu.log")
    try:
        with scratch_database(server, "production_kafka_bench") as url:
            asyncio.run(run(url, broker.address, home, n_orders, rounds))
    finally:
        broker.stop()


async def run(url: str, bootstrap: str, home: Path, n_orders: int, rounds: int) -> None:
    await ensure_topics(ServiceSettings(kafka_bootstrap_servers=bootstrap))
    env = {
        **EMBEDDED_KAFKA_ENV,
        "DATABASE_URL": url,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "KAFKA_IDEMPOTENCE": "false",
        "PHOTO_DIR": str(home / "photos"),
        "SWEEP_INTERVAL_S": "3600",
        "LOG_LEVEL": "WARNING",
    }
    system = System(home, env=env, ports={"production": free_port()})
    counts = Counts(url, n_orders)
    ids = [str(uuid.uuid4()) for _ in range(n_orders)]
    target = date.today() + timedelta(days=200)
    total = n_orders * rounds
    base = datetime.now(UTC) - timedelta(days=1)
    try:
        system.start_service("production", home / "logs")
        await asyncio.to_thread(system.wait_healthy, 60, ["production"])
        started = time.perf_counter()
        await produce(bootstrap, ORDERS_EVENTS, [(o, assignment(o, target)) for o in ids])
        await wait_until(counts, lambda c: c[0] == n_orders and c[2] == 0, 120, "planning")
        took = time.perf_counter() - started
        print(f"planned {n_orders} orders in {took:.2f}s ({n_orders / took:,.0f} orders/s)")

        # one report per order first: every plan is then in the service's cache, as it is
        # for orders a running service has seen before
        await produce(bootstrap, PRODUCTION_PROGRESS, [(o, progress(o, 0, base)) for o in ids])
        await wait_until(counts, lambda c: c[1] == n_orders and c[2] == 0, 120, "warm-up")

        values = [(o, progress(o, n, base)) for n in range(1, rounds + 1) for o in ids]
        expected = n_orders + total
        service = system.services["production"].pid
        cpu_before, pg_before = _cpu(service), await _backends(counts.dsn)
        started = time.perf_counter()
        await produce(bootstrap, PRODUCTION_PROGRESS, values)
        produced = time.perf_counter()
        await wait_until(counts, lambda c: c[1] == expected, 300, "all progress")
        ingested = time.perf_counter()
        await wait_until(counts, lambda c: c[2] == 0, 300, "outbox drained")
        published = time.perf_counter()
        cpu, pg_after = _cpu(service) - cpu_before, await _backends(counts.dsn)
        pg = sum(t - pg_before.get(pid, 0.0) for pid, t in pg_after.items())
    finally:
        system.stop()
    print(f"{total} progress messages produced in {produced - started:.2f}s (by this process)")
    print(
        f"progress: {total} messages ingested in {ingested - started:.2f}s = "
        f"{total / (ingested - started):,.0f} msgs/s; every event published after "
        f"{published - started:.2f}s = {total / (published - started):,.0f} msgs/s end to end"
    )
    print(
        f"CPU: the service {cpu:.2f}s = {cpu / total * 1e6:.0f} µs a message, its PostgreSQL "
        f"backends {pg:.2f}s = {pg / total * 1e6:.0f} µs (comparable under load)"
    )


async def _backends(dsn: str) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend connected to the bench's database."""
    c = await asyncpg.connect(dsn)
    try:
        rows = await c.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid()"
        )
    finally:
        await c.close()
    return {r["pid"]: _cpu(r["pid"]) for r in rows}


def _cpu(pid: int) -> float:
    """CPU seconds (user + system) of a process so far (0 when it is gone)."""
    stat = proc_stat(pid)
    return stat[0] if stat is not None else 0.0


if __name__ == "__main__":
    main()
