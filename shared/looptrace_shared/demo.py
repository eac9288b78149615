"""``looptrace up --demo``: a small simulated season driven through the running system the way
outside systems would (upstream orders, suppliers reporting progress, an inspector's results),
with each order's stages advancing live in the terminal."""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table

from looptrace_shared.auth import mint_token
from looptrace_shared.demo_network import Overloads, seed_network
from looptrace_shared.settings import ServiceSettings
from looptrace_shared.topics import (
    ORDERS_INBOUND,
    PREDICTIONS_ALERTS,
    PRODUCTION_EVENTS,
    PRODUCTION_PROGRESS,
    QUALITY_EVENTS,
    QUALITY_INBOUND,
)

CATEGORIES = ("knitwear", "cut-and-sew")


def _message(type_: str, order_id: str, data: dict[str, Any]) -> bytes:
    return json.dumps(
        {
            "id": str(uuid.uuid4()),
            "type": type_,
            "source": "demo",
            "subject": order_id,
            "time": datetime.now(UTC).isoformat(),
            "correlation_id": f"demo-{order_id[:8]}",
            "data": data,
        }
    ).encode()


class Season:
    def __init__(self, bootstrap: str, n_orders: int, seed: int = 7) -> None:
        self.bootstrap = bootstrap
        self.rng = random.Random(seed)
        self.orders = [str(uuid.uuid4()) for _ in range(n_orders)]
        self.stages: dict[str, list[dict[str, Any]]] = {}
        self.inspections: dict[str, str] = {}
        self.sizes: dict[str, int] = {}
        self.quantities: dict[str, int] = {}
        self.completed: set[str] = set()
        self.alerts = 0
        self.overloads = Overloads()  # production's overloaded supplier-weeks (demo_network)

    async def run(self, progress: Progress) -> None:
        self.producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all")
        self.consumer = AIOKafkaConsumer(
            PRODUCTION_EVENTS,
            QUALITY_EVENTS,
            PREDICTIONS_ALERTS,
            bootstrap_servers=self.bootstrap,
            group_id=None,
            auto_offset_reset="latest",
        )
        await self.producer.start()
        await self.consumer.start()
        listener = asyncio.create_task(self.listen())
        try:
            await asyncio.sleep(1.0)
            await asyncio.gather(
                *(self.order_life(o, i, progress) for i, o in enumerate(self.orders))
            )
        finally:
            listener.cancel()
            await self.consumer.stop()
            await self.producer.stop()

    async def send(self, topic: str, type_: str, order_id: str, data: dict[str, Any]) -> None:
        await self.producer.send_and_wait(
            topic, _message(type_, order_id, data), key=order_id.encode()
        )

    async def listen(self) -> None:
        while True:
            for records in (await self.consumer.getmany(timeout_ms=200)).values():
                for r in records:
                    self.observe(json.loads(r.value))

    def observe(self, event: dict[str, Any]) -> None:
        oid, data, type_ = event["subject"], event["data"], event["type"]
        self.overloads.observe(event)
        if type_ == "production.stages_initialized":
            self.stages[oid] = data["stages"]
        elif type_ == "quality.inspection_scheduled":
            self.inspections[oid] = data["inspection_id"]
            self.sizes[oid] = data["sample_size"]
        elif type_ == "production.production_completed":
            self.completed.add(oid)
        elif type_ == "predictions.delay_risk":
            self.alerts += 1

    async def wait(self, check: Any, timeout: float = 30) -> bool:
        for _ in range(int(timeout * 10)):
            if check():
                return True
            await asyncio.sleep(0.1)
        return False

    async def order_life(self, oid: str, i: int, progress: Progress) -> None:
        category = CATEGORIES[i % 2]
        task = progress.add_task(f"PO-{oid[:6]} {category}", total=100)
        await self.place_order(oid, i, category)
        await self.assign_supplier(oid, i)
        if not await self.wait(lambda: oid in self.stages):
            progress.update(task, description=f"PO-{oid[:6]} [red]no plan")
            return
        stages = [s for s in self.stages[oid] if s["status"] != "skipped"]
        for n, stage in enumerate(stages, start=1):
            await self.report_stage(oid, stage)
            progress.update(
                task,
                completed=100 * n / len(stages),
                description=f"PO-{oid[:6]} {stage['stage_name'][:22]}",
            )
        if await self.wait(lambda: oid in self.completed, 15):
            await self.ship_and_deliver(oid, category)
            progress.update(task, description=f"PO-{oid[:6]} delivered")

    async def place_order(self, oid: str, i: int, category: str) -> None:
        await self.send(
            ORDERS_INBOUND,
            "OrderPlaced",
            oid,
            {
                "order_id": oid,
                "order_number": f"PO-{oid[:6]}",
                "product_type": "garment",
                "product_category": category,
                "buyer": {
                    "id": f"buyer-{i % 3}",
                    "name": f"Buyer {i % 3}",
                    "email": f"buyer{i % 3}@demo.example",
                },
                "quantity": self.quantities.setdefault(oid, self.rng.choice([300, 500, 1200])),
                "currency": "USD",
                "unit_price": "9.50",
                "supplier_cost": "6.10",
                "target_date": str(date.today() + timedelta(days=self.rng.randint(45, 120))),
                "has_print": bool(i % 3),
            },
        )

    async def assign_supplier(self, oid: str, i: int) -> None:
        await self.send(
            ORDERS_INBOUND,
            "SupplierAssigned",
            oid,
            {
                "order_id": oid,
                "supplier": {
                    "id": f"sup-{i % 2}",
                    "name": f"Factory {i % 2}",
                    "email": f"f{i % 2}@demo.example",
                },
            },
        )

    async def ship_and_deliver(self, oid: str, category: str) -> None:
        """Knitwear ships with its last stage; cut-and-sew is shipped by the upstream system."""
        now = datetime.now(UTC).isoformat()
        if category != "knitwear":
            await self.send(
                ORDERS_INBOUND,
                "OrderShipped",
                oid,
                {
                    "order_id": oid,
                    "carrier": "Maersk",
                    "tracking_number": f"MSK{oid[:8]}",
                    "quantity_shipped": self.quantities[oid],
                    "shipped_at": now,
                },
            )
        await asyncio.sleep(1.0)
        await self.send(
            ORDERS_INBOUND, "DeliveryConfirmed", oid, {"order_id": oid, "delivered_at": now}
        )

    async def report_stage(self, oid: str, stage: dict[str, Any]) -> None:
        for pct in (35, 70, 100):
            await asyncio.sleep(self.rng.uniform(0.05, 0.25))
            await self.send(
                PRODUCTION_PROGRESS,
                "ProgressReported",
                oid,
                {
                    "order_id": oid,
                    "stage": stage["stage_number"],
                    "percentage": pct,
                    "reported_at": datetime.now(UTC).isoformat(),
                },
            )
        if stage.get("qc") and await self.wait(lambda: oid in self.inspections, 15):
            await self.send(
                QUALITY_INBOUND,
                "InspectionResultSubmitted",
                oid,
                {
                    "order_id": oid,
                    "inspection_id": self.inspections.pop(oid),
                    "inspector": "Demo QC",
                    "sample_inspected": self.sizes[oid],
                    "defects": [{"defect_class": "minor", "count": 1}],
                },
            )


def completed_orders(system: Any, order_ids: list[str]) -> int:
    settings = ServiceSettings()
    token = mint_token(settings.jwt_secret, "admin", "demo")
    with httpx.Client(
        base_url=system.url("orders"), headers={"Authorization": f"Bearer {token}"}
    ) as http:
        statuses = [
            http.get(f"/v1/orders/{oid}").json().get("workflow_status") for oid in order_ids
        ]
    return statuses.count("completed")


def run_demo(system: Any, n_orders: int) -> None:
    console = Console()
    mailbox = Path(system.home, "mail")
    before = len(list(mailbox.glob("*.eml")))
    asyncio.run(seed_suppliers(system))
    season = Season(system.env["KAFKA_BOOTSTRAP_SERVERS"], n_orders)
    with Progress(
        TextColumn("{task.description:<40}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        console=console,
    ) as progress:
        asyncio.run(season.run(progress))
    time.sleep(3)  # the last deliveries and mails settle
    mails = len(list(mailbox.glob("*.eml"))) - before
    table = Table(title="Demo season")
    for col in (
        "orders",
        "production completed",
        "orders completed",
        "delay-risk alerts",
        "mails in the sink",
    ):
        table.add_column(col)
    done = completed_orders(system, season.orders)
    table.add_row(
        str(n_orders), str(len(season.completed)), str(done), str(season.alerts), str(mails)
    )
    console.print(table)
    print_overloads(console, season.overloads)
    console.print(f"mails: {Path(system.home, 'mail')}  ·  orders API: {system.url('orders')}/docs")
    write_analytics_report(system, console)
    if "web" in system.services and season.orders:
        console.print(console_hint(system.url("web"), season.orders[0], "buyer-0"), soft_wrap=True)


async def seed_suppliers(system: Any) -> None:
    """The demo's supplier network (``demo_network``), through production's HTTP API."""
    async with httpx.AsyncClient(base_url=system.url("production"), timeout=30) as http:
        await seed_network(http, ServiceSettings().jwt_secret)


def print_overloads(console: Console, overloads: Overloads, shown: int = 3) -> None:
    lines = overloads.lines()
    if not lines:
        console.print("supplier network: no supplier-week went over its capacity")
        return
    console.print(f"supplier network: {len(lines)} overloaded supplier-week(s), e.g.")
    for line in lines[:shown]:
        console.print(f"  {line}")


def console_hint(console_url: str, order_id: str, buyer_id: str) -> str:
    """Where to look at the demo in the console, and as whom to sign in."""
    return (
        f"demo order page: {console_url}/orders/{order_id}\n"
        f"  sign in there as role buyer, user id {buyer_id} (its orders), or as admin (all)"
    )


def write_analytics_report(system: Any, console: Console) -> None:
    """The season's analytics report (``looptrace analytics report``), and where it is."""
    out = Path(system.home, "analytics-report.html").resolve()
    command = [
        sys.executable,
        "-m",
        "looptrace_shared.cli",
        "analytics",
        "report",
        "--out",
        str(out),
    ]
    done = subprocess.run(command, env={**os.environ, **system.env}, capture_output=True, text=True)
    if done.returncode == 0:
        console.print(f"analytics report: {out}")
    else:
        console.print(
            f"[yellow]analytics report not written: {done.stderr.strip()[-300:]}[/yellow]"
        )
