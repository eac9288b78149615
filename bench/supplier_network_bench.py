"""Supplier network: what keeping utilisation current costs production's progress throughput,
and how fast ``GET /v1/suppliers/candidates`` answers with 200 suppliers.

    DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python bench/supplier_network_bench.py [orders] [suppliers] [--stages=N]

Two scratch databases, each with ``suppliers`` suppliers (capabilities and a weekly capacity
per category and process) and ``orders`` cut-and-sew orders assigned round-robin among them
(as bench/production_bench.py: 1000 units, target in 200 days). Progress then flows stage by
stage (25, 50, 75, 100 % per stage, stages 1..N) through BatchProcessor.process in the
service's batches and lanes: into database *with* as production runs (each saved plan records
its load change, and the folder runs every UTILISATION_FOLD_S), into database *without* with
``utilisation.record`` / ``remember_loaded`` replaced by no-ops. The two alternate stage by
stage (the same messages, in the same sitting; who goes first alternates too). Then
``candidates`` (the route's work: query, plans per supplier, ranking, the answer model; no HTTP
framing) is timed 200 times against database *with*.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from production_bench import BATCH, LANES, MIGRATIONS, feed, progress
from sqlalchemy import text

from looptrace_production import utilisation
from looptrace_production.api_candidates import candidate_out, candidates_for
from looptrace_production.app import tune_gc
from looptrace_production.config import ProductionSettings
from looptrace_production.domain.candidates import Ask
from looptrace_production.handlers import consumer_group
from looptrace_production.models import plumbing
from looptrace_production.plan_cache import PlanCache
from looptrace_production.services import Planning
from looptrace_production.templates import load_templates
from looptrace_shared.db import UnitOfWork, make_engine, make_sessionmaker
from looptrace_shared.envelope import new_envelope
from looptrace_shared.events.orders import OrderSupplierAssigned, Party
from looptrace_shared.messaging.consumer import BatchProcessor
from looptrace_shared.migrations import migrate
from looptrace_shared.testing import scratch_database

BUCKETS = ("category:cut-and-sew", "category:knitwear", "process:cutting", "process:sewing",
           "process:printing", "process:washing", "process:knitting")  # fmt: skip


def assignment(oid: str, supplier: str, target: date) -> bytes:
    data = OrderSupplierAssigned(
        order_id=oid, order_number=f"PO-{oid[:12]}", buyer=Party(id="b", name="B"),
        product_category="cut-and-sew", quantity=1000, target_date=target,
        supplier=Party(id=supplier, name=supplier.upper()), assigned_by="bench",
    )  # fmt: skip
    return new_envelope("order.supplier_assigned", "bench", oid, data).to_bytes()


async def seed_suppliers(engine: Any, n: int) -> list[str]:
    rng = random.Random(7)
    ids = [f"s-{i:03d}" for i in range(n)]
    profile = {"contacts": [], "processes": ["cutting", "sewing", "printing", "washing"],
               "categories": [{"category": "cut-and-sew", "moq": 300, "lead_time_days": 40},
                              {"category": "knitwear", "moq": 300, "lead_time_days": 45}],
               "certifications": [{"name": "BSCI", "expires_on": "2030-01-01"}]}  # fmt: skip
    monday = date.today() - timedelta(days=date.today().weekday())
    async with engine.begin() as c:
        for s in ids:
            await c.execute(
                text("INSERT INTO production.suppliers (supplier_id, name, country, status, "
                     "profile, version) VALUES (:s, :s, 'PT', 'active', CAST(:p AS jsonb), 1)"),
                {"s": s, "p": __import__("json").dumps(profile)},
            )  # fmt: skip
            for bucket in BUCKETS:
                await c.execute(
                    text("INSERT INTO production.supplier_capacity (supplier_id, bucket, "
                         "units_per_week, effective_from) VALUES (:s, :b, :u, :d)"),
                    {"s": s, "b": bucket, "u": rng.randrange(5_000, 40_000), "d": monday},
                )  # fmt: skip
    return ids


class World:
    def __init__(self, name: str, url: str, settings: ProductionSettings) -> None:
        self.name, self.url = name, url
        self.engine = make_engine(url, 4)
        self.sessions = make_sessionmaker(self.engine)
        self.planning = Planning(settings, load_templates(), plans=PlanCache())
        group = consumer_group(self.planning)
        self.processor = BatchProcessor(group, self.sessions, plumbing, settings)
        self.took: list[float] = []

    async def fold(self) -> int:
        async with self.sessions() as session:
            uow = UnitOfWork(session, plumbing)
            emitted = await utilisation.fold(uow)
            await uow.commit()
        return emitted


def switched(on: bool) -> Callable[[], None]:
    """Utilisation on (as shipped) or off (no-ops); returns the undo."""
    record, remember = utilisation.record, utilisation.remember_loaded
    if not on:

        async def no_record(session: Any, orders: Any) -> int:
            return 0

        utilisation.record = no_record  # type: ignore[assignment]
        utilisation.remember_loaded = lambda order: None  # type: ignore[assignment]

    def undo() -> None:
        utilisation.record, utilisation.remember_loaded = record, remember  # type: ignore[assignment]

    return undo


async def folding(world: World, every: float, stop: asyncio.Event) -> int:
    emitted = 0
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), every)
        except TimeoutError:
            emitted += await world.fold()
    return emitted


async def stage_run(world: World, values: list[tuple[str, bytes]], on: bool) -> tuple[float, int]:
    undo, stop = switched(on), asyncio.Event()
    folder = (
        asyncio.create_task(folding(world, world.planning.settings.utilisation_fold_s, stop))
        if on
        else None
    )
    try:
        took = await feed(world.processor, "production.progress.v1", values)
    finally:
        stop.set()
        undo()
    emitted = await folder if folder else 0
    world.took.append(took)
    return took, emitted


async def candidates_p95(world: World, runs: int) -> list[float]:
    ask = Ask("cut-and-sew", 800, date.today() + timedelta(days=120), date.today())
    times = []
    for _ in range(runs):
        async with world.sessions() as session:
            started = time.perf_counter()
            found = await candidates_for(session, world.planning, ask, True)
            [candidate_out(n, c) for n, c in enumerate(found, start=1)]
            times.append(time.perf_counter() - started)
    print(f"candidates: {len(found)} ranked; first: {found[0].supplier_id} "
          f"{found[0].reasons[:2]}")  # fmt: skip
    return times


async def run(urls: tuple[str, str], n_orders: int, n_suppliers: int, stages: int) -> None:
    settings = ProductionSettings(database_url=urls[0], kafka_batch_lanes=LANES)
    tune_gc(settings)
    worlds = [World("with", urls[0], settings), World("without", urls[1], settings)]
    ids = [str(uuid.uuid4()) for _ in range(n_orders)]
    target = date.today() + timedelta(days=200)
    for w in worlds:
        await asyncio.to_thread(migrate, w.url, MIGRATIONS)
        suppliers = await seed_suppliers(w.engine, n_suppliers)
        values = [
            (oid, assignment(oid, suppliers[i % n_suppliers], target)) for i, oid in enumerate(ids)
        ]
        undo = switched(w.name == "with")
        took = await feed(w.processor, "orders.events.v1", values)
        undo()
        print(f"{w.name}: planned {n_orders} orders for {n_suppliers} suppliers in {took:.2f}s")
    await worlds[0].fold()
    base = datetime.now(UTC) - timedelta(days=1)
    for stage in range(stages):
        values = [
            (oid, progress(oid, n, base)) for n in range(4 * stage, 4 * stage + 4) for oid in ids
        ]
        order = worlds if stage % 2 == 0 else worlds[::-1]
        for w in order:
            took, emitted = await stage_run(w, values, w.name == "with")
            print(f"stage {stage + 1} {w.name:>7}: {len(values) / took:8,.0f} msgs/s"
                  + (f"  ({emitted} capacity events)" if emitted else ""))  # fmt: skip
    msgs = 4 * n_orders * stages
    rate = {w.name: msgs / sum(w.took) for w in worlds}
    drop = 100 * (1 - rate["with"] / rate["without"])
    pairs = [b / a for a, b in zip(worlds[0].took, worlds[1].took, strict=True)]  # with/without
    print("per stage, with / without throughput: " + ", ".join(f"{r:.2f}" for r in pairs)
          + f"; median {statistics.median(pairs):.2f}")  # fmt: skip
    print(f"progress: with utilisation {rate['with']:,.0f} msgs/s, without {rate['without']:,.0f}"
          f" msgs/s: {drop:+.1f} % drop (batches of {BATCH}, {LANES} lanes)")  # fmt: skip
    async with worlds[0].engine.connect() as c:
        rows = (await c.execute(text("SELECT count(*), count(*) FILTER (WHERE overloaded) "
                                     "FROM production.supplier_load"))).one()  # fmt: skip
    print(f"supplier_load rows {rows[0]}, overloaded {rows[1]}")
    times = sorted(await candidates_p95(worlds[0], 200))
    p50, p95 = statistics.median(times), times[int(0.95 * len(times)) - 1]
    print(f"candidates ({n_suppliers} suppliers): p50 {p50 * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms")
    for w in worlds:
        await w.engine.dispose()


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    stages = next((int(a.split("=")[1]) for a in sys.argv if a.startswith("--stages=")), 7)
    n_orders = int(args[0]) if args else 10_000
    n_suppliers = int(args[1]) if len(args) > 1 else 200
    server = os.environ.get("DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    with (
        scratch_database(server, "supplier_bench_a") as a,
        scratch_database(server, "supplier_bench_b") as b,
    ):
        asyncio.run(run((a, b), n_orders, n_suppliers, stages))


if __name__ == "__main__":
    main()
