"""Notifications throughput: events/s turned into notifications, mails/s delivered over SMTP.

    DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python bench/notifications_bench.py [orders] [--batch=N] [--lanes=N] [--no-mail]

Uses a scratch database on that server (dropped afterwards) and a local aiosmtpd server.
Events go through BatchProcessor.process (inbox where needed, the consumer group's preload,
reactions and save, commit) in batches of KAFKA_MAX_BATCH (``--batch``), split into the
service's KAFKA_BATCH_LANES concurrent transactions (``--lanes``), as the running consumer does.
Each order brings an ``order.created`` and a ``quality.inspection_passed``: two notifications
and two e-mails. Prints the events' rate, the median batch's rate and the process's CPU per
event (less at the mercy of other processes than the wall clock).
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import sys
import time
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

import looptrace_notifications
from looptrace_notifications.config import NotificationsSettings
from looptrace_notifications.email_jobs import deliver_due
from looptrace_notifications.handlers import consumer_group
from looptrace_notifications.models import plumbing
from looptrace_shared.db import make_engine, make_sessionmaker
from looptrace_shared.envelope import new_envelope
from looptrace_shared.events import orders as o
from looptrace_shared.events import quality as q
from looptrace_shared.messaging.consumer import BatchProcessor
from looptrace_shared.messaging.incoming import Record
from looptrace_shared.migrations import migrate
from looptrace_shared.runtime import Runtime
from looptrace_shared.testing import scratch_database

MIGRATIONS = Path(looptrace_notifications.__file__).parent / "migrations"


def option(name: str, default: int) -> int:
    given = [a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith(f"--{name}=")]
    return int(given[-1]) if given else default


DEFAULTS = NotificationsSettings()
BATCH = option("batch", DEFAULTS.kafka_max_batch)
LANES = option("lanes", DEFAULTS.kafka_batch_lanes)


class CountingSmtp:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.count += 1
        return "250 OK"


def events(n_orders: int) -> list[Record]:
    out = []
    for i in range(n_orders):
        oid, number = f"ord-{uuid.uuid4().hex[:10]}", f"PO-{i:06d}"
        buyer = o.Party(id=f"buyer-{i % 50}", name="Buyer", email=f"buyer{i % 50}@bench.example")
        facts = {
            "order_id": oid,
            "order_number": number,
            "buyer": buyer,
            "product_category": "knitwear",
            "quantity": 100,
            "target_date": date(2030, 1, 1),
        }
        created = o.OrderCreated(
            **facts, workflow_status="confirmed", currency="EUR", unit_price=Decimal(5)
        )
        passed = q.InspectionPassed(
            order_id=oid,
            order_number=number,
            inspection_id="i",
            sample_inspected=50,
            defects_by_class={},
            summary="ok",
        )
        for env in (
            new_envelope("order.created", "bench", oid, created),
            new_envelope("quality.inspection_passed", "bench", oid, passed),
        ):
            out.append(Record("orders.events.v1", 0, len(out), env.key(), env.to_bytes()))
    return out


async def run(url: str, n_orders: int) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sink = CountingSmtp()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    settings = NotificationsSettings(
        database_url=url, smtp_port=port, mailer_batch=200, kafka_batch_lanes=LANES
    )
    engine = make_engine(url, 5)
    rt = Runtime(settings, engine, make_sessionmaker(engine), plumbing)
    processor = BatchProcessor(consumer_group(settings), rt.sessions, plumbing, settings)
    records = events(n_orders)
    try:
        await feed(processor, records)
        if "--no-mail" not in sys.argv:
            await deliver(rt, sink)
    finally:
        controller.stop()
        await engine.dispose()


async def feed(processor: BatchProcessor, records: list[Record]) -> None:
    rates = []
    started, cpu = time.perf_counter(), time.process_time()
    for i in range(0, len(records), BATCH):
        batch = records[i : i + BATCH]
        t = time.perf_counter()
        await processor.process(batch)
        rates.append(len(batch) / (time.perf_counter() - t))
    took, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(
        f"events -> notifications: {len(records)} events in {took:.2f}s"
        f" = {len(records) / took:,.0f} events/s (batches of {BATCH}, {LANES} lanes;"
        f" median batch {statistics.median(rates):,.0f} events/s;"
        f" CPU {cpu / len(records) * 1e6:.0f} us an event; load {os.getloadavg()[0]:.1f})"
    )


async def deliver(rt: Runtime[NotificationsSettings, Any], sink: CountingSmtp) -> None:
    started = time.perf_counter()
    while await deliver_due(rt, datetime.now(UTC)):
        pass
    took = time.perf_counter() - started
    print(
        f"mails delivered (aiosmtpd): {sink.count} in {took:.2f}s = {sink.count / took:,.0f} mails/s"
    )


def main() -> None:
    numbers = [a for a in sys.argv[1:] if not a.startswith("--")]
    n_orders = int(numbers[0]) if numbers else 2000
    server = os.environ.get("DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    with scratch_database(server, "notif_bench") as url:
        migrate(url, MIGRATIONS)
        asyncio.run(run(url, n_orders))


if __name__ == "__main__":
    main()
