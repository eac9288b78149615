"""Predictions worker throughput: events/s through its consumer group (preload, reactions, save) with batched scoring.

    DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python bench/predictions_worker_bench.py [--orders 2000] [--batch 1000] [--baseline]

Uses a scratch database on that server (dropped afterwards). Trains a model on 1 000
simulated orders (unless ``--baseline``), then feeds every order's life — order.created,
stages_initialized, and a start + completion per stage (14 events for 6 stages) —
through BatchProcessor.process in batches of ``--batch`` records, interleaved across
orders as a topic would deliver them: parse, inbox, lock the batch's orders (one query),
apply, save states, score all touched orders in one predict call, history rows, alerts.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import click
from threadpoolctl import threadpool_limits

import looptrace_predictions
from looptrace_predictions.config import PredictionsSettings
from looptrace_predictions.handlers import consumer_groups
from looptrace_predictions.models import plumbing
from looptrace_predictions.scoring import LiveModel
from looptrace_predictions.services import Scoring
from looptrace_predictions.training.simulate import simulate_history
from looptrace_predictions.training.workflows import train
from looptrace_shared.db import make_engine, make_sessionmaker
from looptrace_shared.envelope import new_envelope
from looptrace_shared.messaging.consumer import BatchProcessor
from looptrace_shared.messaging.incoming import Record
from looptrace_shared.migrations import migrate
from looptrace_shared.runtime import Runtime
from looptrace_shared.testing import scratch_database

MIGRATIONS = Path(looptrace_predictions.__file__).parent / "migrations"
SERVER = os.environ.get("DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
STAGES = ["Fabric sourcing", "Cutting", "Printing", "Sewing", "Finishing", "Final QC"]
TODAY = date.today()
_offsets = itertools.count()


def _record(type_: str, oid: str, data: dict[str, object]) -> Record:
    topic = "orders.events.v1" if type_.startswith("order.") else "production.events.v1"
    value = new_envelope(type_, "bench", oid, data).to_bytes()
    return Record(topic, 0, next(_offsets), oid.encode(), value)


def _life(n: int) -> list[Record]:
    """One order's events: created, planned, each stage started and completed (some late)."""
    oid, start = str(uuid.uuid4()), TODAY - timedelta(days=60)
    number, supplier = f"PO-{n}", f"sup-{n % 50}"
    target = TODAY + timedelta(days=n % 40 - 10)
    plan = [(i + 1, name, start + timedelta(days=10 * i), start + timedelta(days=10 * i + 10))
            for i, name in enumerate(STAGES)]  # fmt: skip
    events = [
        _record("order.created", oid, {
            "order_id": oid, "order_number": number, "buyer": {"id": "b-1", "name": "B"},
            "product_category": ("knitwear", "denim", "cut-and-sew")[n % 3], "quantity": 500,
            "target_date": str(target), "workflow_status": "placed", "currency": "USD",
            "unit_price": "4.00"}),
        _record("production.stages_initialized", oid, {
            "order_id": oid, "order_number": number, "supplier_id": supplier,
            "product_category": "knitwear", "target_date": str(target),
            "projected_completion": str(plan[-1][3]), "at_risk": False,
            "stages": [{"stage_number": k, "stage_name": s, "status": "pending",
                        "planned_start": str(a), "planned_end": str(b)} for k, s, a, b in plan]}),
    ]  # fmt: skip
    slip = timedelta(days=n % 7)
    for k, name, planned_start, planned_end in plan:
        ref = {"order_id": oid, "order_number": number, "stage_number": k, "stage_name": name}
        started = datetime.combine(planned_start + slip, datetime.min.time(), UTC)
        ended = datetime.combine(planned_end + slip, datetime.min.time(), UTC)
        events.append(
            _record("production.stage_started", oid, {**ref, "started_at": started.isoformat()})
        )
        events.append(
            _record("production.stage_completed", oid, {**ref, "completed_at": ended.isoformat()})
        )
    return events


def _interleaved(orders: int) -> list[Record]:
    """Round-robin across orders, each order's events in order (as a partition delivers them)."""
    lives = [_life(n) for n in range(orders)]
    return [e for step in itertools.zip_longest(*lives) for e in step if e is not None]


async def _run(url: str, model_dir: str, orders: int, batch: int) -> None:
    await asyncio.to_thread(migrate, url, MIGRATIONS)
    settings = PredictionsSettings(database_url=url, predictions_model_dir=model_dir)
    engine = make_engine(url)
    rt = Runtime(
        settings, engine, make_sessionmaker(engine), plumbing, Scoring(LiveModel(model_dir))
    )
    (group,) = consumer_groups(rt)
    processor = BatchProcessor(group, rt.sessions, plumbing, settings)
    records = _interleaved(orders)
    await processor.process(records[:batch])  # warm-up (connections, first predict)
    rest = records[batch:]
    started = time.perf_counter()
    for i in range(0, len(rest), batch):
        await processor.process(rest[i : i + batch])
    elapsed = time.perf_counter() - started
    await engine.dispose()
    click.echo(
        f"worker ({rt.state.live.version}): {len(rest)} events of {orders} orders "
        f"in batches of {batch}: {elapsed:.1f} s = {len(rest) / elapsed:,.0f} events/s"
    )


@click.command()
@click.option("--orders", type=click.IntRange(min=10), default=2000, show_default=True)
@click.option("--batch", type=click.IntRange(min=1), default=1000, show_default=True)
@click.option("--baseline", is_flag=True, help="score with the baseline rule (no model)")
def main(orders: int, batch: int, baseline: bool) -> None:
    with threadpool_limits(limits=1), tempfile.TemporaryDirectory() as model_dir:
        if not baseline:
            train(simulate_history(1000, seed=1), "bench", model_dir)
        with scratch_database(SERVER, "predictions_bench") as url:
            asyncio.run(_run(url, model_dir, orders, batch))


if __name__ == "__main__":
    main()
