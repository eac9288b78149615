"""Webhook throughput: deliveries/s from the sender to a local HTTP receiver, and its memory.

    DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python bench/webhooks_bench.py [orders] [buyers]

Uses a scratch database on that server (dropped afterwards). ``buyers`` buyers each subscribe
to order.created and quality.inspection_passed; ``orders`` orders (two events each) go through
the consumer's batch processor, which queues one delivery per event. Then the sender
(webhook_sender.send_due, as the service's periodic job runs it) posts them, signed, to a
receiver in another process (an asyncio HTTP/1.1 server that verifies every signature with the
standardwebhooks library and answers 200). Prints deliveries/s and the sender process's
resident memory sampled every 0.25 s (the sender holds at most two claimed batches), and its
CPU time per delivery (which, unlike the wall-clock rate, does not depend on what else the
machine runs).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import sys
import time
import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import looptrace_notifications
from looptrace_notifications.config import NotificationsSettings
from looptrace_notifications.handlers import consumer_group
from looptrace_notifications.models import plumbing
from looptrace_notifications.webhook_sender import Clients, send_due
from looptrace_notifications.webhook_signing import new_secret
from looptrace_notifications.webhook_tables import WebhookSubscriptionRow
from looptrace_shared.db import make_engine, make_sessionmaker
from looptrace_shared.embedded import free_port
from looptrace_shared.envelope import new_envelope
from looptrace_shared.events import orders as o
from looptrace_shared.events import quality as q
from looptrace_shared.messaging.consumer import BatchProcessor
from looptrace_shared.messaging.incoming import Record
from looptrace_shared.migrations import migrate
from looptrace_shared.runtime import Runtime
from looptrace_shared.testing import scratch_database

MIGRATIONS = Path(looptrace_notifications.__file__).parent / "migrations"
BATCH = 500
TYPES = ["order.created", "quality.inspection_passed"]


# ---- the receiver (its own process) ------------------------------------------------------


def receive(port: int, secrets: dict[str, str], counts: Any, ready: Any) -> None:
    from standardwebhooks.webhooks import Webhook

    hooks = {path: Webhook(secret) for path, secret in secrets.items()}

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while head := await reader.readuntil(b"\r\n\r\n") if not reader.at_eof() else b"":
            lines = head.decode().split("\r\n")
            path = lines[0].split(" ")[1]
            fields = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
            fields = {k.lower(): v for k, v in fields.items()}
            body = await reader.readexactly(int(fields.get("content-length", 0)))
            try:
                hooks[path].verify(body, fields)
                counts[0] += 1
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
            except Exception:
                counts[1] += 1
                writer.write(b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\n\r\n")
            await writer.drain()

    async def main() -> None:
        server = await asyncio.start_server(_quiet(serve), "127.0.0.1", port)
        ready.set()
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def _quiet(handler: Any) -> Any:
    async def run(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await handler(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    return run


# ---- the sender (this process) -------------------------------------------------------------


def events(n_orders: int, n_buyers: int) -> list[Record]:
    out = []
    for i in range(n_orders):
        oid, number = f"ord-{uuid.uuid4().hex[:10]}", f"PO-{i:06d}"
        buyer = o.Party(id=f"buyer-{i % n_buyers}", name="Buyer", email="b@bench.example")
        facts = {
            "order_id": oid,
            "order_number": number,
            "buyer": buyer,
            "product_category": "knitwear",
            "quantity": 100,
            "target_date": date(2030, 1, 1),
        }
        created = o.OrderCreated(
            **facts, workflow_status="placed", currency="EUR", unit_price=Decimal(5)
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


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


async def subscribe(rt: Runtime, port: int, n_buyers: int) -> dict[str, str]:
    secrets = {}
    async with rt.sessions() as session:
        for b in range(n_buyers):
            secrets[f"/hooks/{b}"] = secret = new_secret()
            session.add(
                WebhookSubscriptionRow(
                    id=f"wh_{uuid.uuid4().hex}",
                    owner_id=f"buyer-{b}",
                    url=f"http://127.0.0.1:{port}/hooks/{b}",
                    event_types=TYPES,
                    description="bench",
                    secret=secret,
                    state="active",
                    failures_in_a_row=0,
                    created_by="bench",
                )
            )
        await session.commit()
    return secrets


async def run(url: str, n_orders: int, n_buyers: int) -> None:
    port = free_port()
    settings = NotificationsSettings(database_url=url, webhook_allow_private_targets=True)
    engine = make_engine(url, 5)
    rt = Runtime(settings, engine, make_sessionmaker(engine), plumbing, Clients())
    secrets = await subscribe(rt, port, n_buyers)
    counts, ready = multiprocessing.Array("l", 2), multiprocessing.Event()
    receiver = multiprocessing.Process(target=receive, args=(port, secrets, counts, ready))
    receiver.start()
    ready.wait(30)
    processor = BatchProcessor(consumer_group(settings), rt.sessions, plumbing, settings)
    records = events(n_orders, n_buyers)
    try:
        started = time.perf_counter()
        for i in range(0, len(records), BATCH):
            await processor.process(records[i : i + BATCH])
        took = time.perf_counter() - started
        print(f"events queued: {len(records)} in {took:.2f}s = {len(records) / took:,.0f} events/s")
        await send_all(rt, len(records), counts)
    finally:
        receiver.terminate()
        receiver.join()
        if rt.state.webhook is not None:
            await rt.state.webhook.close()
        await engine.dispose()


async def send_all(rt: Runtime, total: int, counts: Any) -> None:
    samples: list[float] = [rss_mib()]

    async def sample() -> None:
        while True:
            await asyncio.sleep(0.25)
            samples.append(rss_mib())

    sampler = asyncio.create_task(sample())
    started, cpu, sent = time.perf_counter(), time.process_time(), 0
    while n := await send_due(rt):
        sent += n
    took, cpu = time.perf_counter() - started, time.process_time() - cpu
    sampler.cancel()
    print(
        f"deliveries: {sent} in {took:.2f}s = {sent / took:,.0f} deliveries/s; sender CPU "
        f"{cpu / sent * 1e6:,.0f} us/delivery = {sent / cpu:,.0f} deliveries per CPU-second "
        f"(receiver verified {counts[0]}, refused {counts[1]})"
    )
    print(
        f"sender RSS MiB while sending: first {samples[0]:.0f}, min {min(samples):.0f}, "
        f"max {max(samples):.0f}, last {samples[-1]:.0f} ({len(samples)} samples)"
    )


def main() -> None:
    n_orders = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    n_buyers = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    server = os.environ.get("DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    with scratch_database(server, "webhooks_bench") as url:
        migrate(url, MIGRATIONS)
        asyncio.run(run(url, n_orders, n_buyers))


if __name__ == "__main__":
    main()
