"""The whole system as a user runs it: latency and throughput from outside, memory per process.

    .venv/bin/python bench/pipeline_bench.py [--orders 10000] [--rates 500,2000,5000]
        [--seconds 10] [--json]
    .venv/bin/python bench/pipeline_bench.py --scale [--orders 100000]   # RSS at many orders

Starts what ``python3 dev.py up`` starts, with ``System`` (looptrace_shared.system): the
embedded broker (tansu), a fresh database of its own on DATABASE_URL's server (default the
local PostgreSQL on 127.0.0.1:5432), the SMTP sink and the five service processes. Then, from
outside, with plain aiokafka producers as an upstream system and a supplier integration would:

1. ``--orders`` orders are placed and assigned (``OrderPlaced`` then ``SupplierAssigned`` on
   orders.inbound.v1); timed until production has published every ``stages_initialized``.
2. For each rate, supplier reports (``ProgressReported`` on production.progress.v1) for
   ``--seconds`` at that fixed rate, each with a correlation id of its own. A listener process
   (no consumer group) notes when the first event carrying each correlation id arrives on
   production.events.v1 and on predictions.alerts.v1 (only orders whose risk level changes
   get one). Latency = arrival - send (one clock: the same machine).

Printed per rate: latency p50/p95/p99 to the production event and to the alert, the rate
handled, the production group's lag when sending stopped and the time to drain (kept up =
every event within a second of the last send), CPU seconds and RSS of every process (the
services, tansu, this database's PostgreSQL backends, the bench itself). ``--json``: the same
as one JSON document. ``--scale``: only step 1 (default 100 000 orders), then RSS per process
and per order.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer
from pipeline_probes import (  # this folder: the bench's measuring
    ALERTS,
    EVENTS,
    Listener,
    Processes,
    batch_metrics,
    batches,
    percentiles,
    usage,
)
from sqlalchemy.engine import make_url

from looptrace_shared.embedded import free_port
from looptrace_shared.lag import LagProbe
from looptrace_shared.messaging.kafka import KeyHashCache, ensure_topics
from looptrace_shared.settings import ServiceSettings
from looptrace_shared.system import SERVICES, System
from looptrace_shared.testing import scratch_database
from looptrace_shared.topics import PRODUCTION_PROGRESS

INBOUND = "orders.inbound.v1"
SERVER = os.environ.get("DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")


# ---- the upstream producer ------------------------------------------------------------------


class Sender:
    """Record batches per partition, keyed like the default partitioner (a ``send`` per
    message would make this process compete with the services)."""

    def __init__(self, bootstrap: str) -> None:
        self.producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=0)
        self.partition_of = KeyHashCache()

    async def send(self, topic: str, values: list[tuple[str, bytes]]) -> list[Any]:
        partitions = sorted(await self.producer.partitions_for(topic))
        batches: dict[int, Any] = {}
        futures = []
        for k, v in values:
            key = k.encode()
            n = self.partition_of(key, partitions, partitions)
            batch = batches.get(n)
            if batch is None or batch.append(key=key, value=v, timestamp=None) is None:
                if batch is not None:
                    futures.append(await self.producer.send_batch(batch, topic, partition=n))
                batch = batches[n] = self.producer.create_batch()
                batch.append(key=key, value=v, timestamp=None)
        for n, batch in batches.items():
            futures.append(await self.producer.send_batch(batch, topic, partition=n))
        return futures


def envelope(type_: str, subject: str, data: dict[str, Any], correlation: str) -> bytes:
    """Built by hand, the way an outside system would."""
    return orjson.dumps(
        {
            "id": str(uuid.uuid4()),
            "type": type_,
            "source": "pipeline-bench",
            "time": datetime.now(UTC).isoformat(),
            "subject": subject,
            "schema_version": "1",
            "correlation_id": correlation,
            "data": data,
        }  # fmt: skip
    )


def order_placed(oid: str, n: int) -> bytes:
    days = 25 if n % 3 == 0 else 120  # every third order on a tight date: its risk may change
    data = {
        "order_id": oid, "order_number": f"PO-{oid[:12]}",
        "buyer": {"id": f"buyer-{n % 50}", "name": "Ada Buyer",
                  "email": f"buyer{n % 50}@buyer.example", "company": "Ada Ltd"},
        "product_type": "sweater", "product_category": "knitwear", "style": "crew neck",
        "quantity": 500, "currency": "EUR", "unit_price": "12.50", "supplier_cost": "8.00",
        "target_date": str(date.today() + timedelta(days=days)),
    }  # fmt: skip
    return envelope("OrderPlaced", oid, data, f"place-{oid}")


def supplier_assigned(oid: str, n: int) -> bytes:
    supplier = {"id": f"sup-{n % 20}", "name": "Knit Co", "email": f"ops{n % 20}@knit.example"}
    data = {"order_id": oid, "supplier": supplier}
    return envelope("SupplierAssigned", oid, data, f"assign-{oid}")


def progress(oid: str, n: int, base: datetime, correlation: str) -> bytes:
    """The n-th report of an order: stage 1 at n+1 % (every report changes the stage)."""
    data = {
        "order_id": oid, "stage": 1, "percentage": n + 1,
        "reported_at": (base + timedelta(seconds=n)).isoformat(), "notes": "on track",
    }  # fmt: skip
    return envelope("ProgressReported", oid, data, correlation)


# ---- the run ----------------------------------------------------------------------------------


async def wait_for(listener: Listener, kind: str, n: int, timeout: float) -> float | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        types, last = listener.ask("counts")
        if types.get(kind, 0) >= n:
            return float(last[kind])
        await asyncio.sleep(0.1)
    return None


async def place_and_plan(
    sender: Sender, listener: Listener, ids: list[str], timeout: float
) -> dict[str, Any]:
    started = time.time()
    await asyncio.gather(
        *await sender.send(INBOUND, [(o, order_placed(o, n)) for n, o in enumerate(ids)])
    )
    await asyncio.gather(
        *await sender.send(INBOUND, [(o, supplier_assigned(o, n)) for n, o in enumerate(ids)])
    )
    sent = time.time()
    planned = await wait_for(listener, "production.stages_initialized", len(ids), timeout)
    await asyncio.sleep(2)  # the first assessments' alerts (every order gets one) arrive
    types, _ = listener.ask("counts")
    took = (planned or time.time()) - started
    got = listener.ask("assign-")
    return {
        "assigned_to_stages_initialized_ms": percentiles([at - sent for at, _ in got[EVENTS].values()]),
        "assigned_to_first_alert_ms": percentiles([at - sent for at, _ in got[ALERTS].values()]),
        "orders": len(ids), "send_s": round(sent - started, 2),
        "planned": types.get("production.stages_initialized", 0),
        "placed_to_planned_s": round(took, 2), "plans_per_s": round(len(ids) / took, 1),
        "events_seen": types,
    }  # fmt: skip


async def send_at_rate(
    sender: Sender, ids: list[str], offset: int, prefix: str, rate: int, total: int
) -> list[float]:
    """``total`` reports at ``rate``/s (every couple of ms what is due); each one's send time."""
    base = datetime.now(UTC) - timedelta(days=1)
    sent_at: list[float] = []
    futures: list[Any] = []
    started = time.time()
    while len(sent_at) < total:
        due = min(total, int((time.time() - started) * rate) + 1) - len(sent_at)
        if due > 0:
            values = []
            for i in range(len(sent_at), len(sent_at) + due):
                oid = ids[i % len(ids)]
                n = offset + i // len(ids)
                values.append((oid, progress(oid, n, base, f"{prefix}{i}")))
            now = time.time()
            futures += await sender.send(PRODUCTION_PROGRESS, values)
            sent_at += [now] * due
        await asyncio.sleep(0.002)
    await asyncio.gather(*futures)
    return sent_at


async def one_rate(
    sender: Sender, listener: Listener, lag: LagProbe, ids: list[str], offset: int,
    rate: int, seconds: float,
) -> dict[str, Any]:  # fmt: skip
    prefix, total = f"r{rate}-", int(rate * seconds)
    started = time.time()
    sent_at = await send_at_rate(sender, ids, offset, prefix, rate, total)
    stopped = time.time()
    behind = await lag.lag("production", (PRODUCTION_PROGRESS,))
    got: dict[str, dict[str, float]] = {EVENTS: {}, ALERTS: {}}
    deadline = stopped + max(60.0, seconds * 6)
    while len(got[EVENTS]) < total and time.time() < deadline:
        await asyncio.sleep(0.1)
        for t, sub in listener.ask(prefix).items():
            got[t].update(sub)
    drained = max((at for at, _ in got[EVENTS].values()), default=stopped)
    sent = {t: [(sent_at[int(c[len(prefix) :])], *v) for c, v in got[t].items()] for t in got}
    return {
        "rate": rate, "reports": total, "send_s": round(stopped - started, 2),
        "events": len(got[EVENTS]), "handled_per_s": round(len(got[EVENTS]) / (drained - started), 1),
        "lag_at_stop": behind, "drain_s": round(max(0.0, drained - stopped), 2),
        "kept_up": len(got[EVENTS]) == total and drained - stopped <= 1.0,
        "production_ms": percentiles([at - s for s, at, _ in sent[EVENTS]]),
        "production_published_ms": percentiles([pub - s for s, _, pub in sent[EVENTS]]),
        "alert_ms": percentiles([at - s for s, at, _ in sent[ALERTS]]),
        "alert_published_ms": percentiles([pub - s for s, _, pub in sent[ALERTS]]),
    }  # fmt: skip


def start_system(home: Path, url: str) -> System:
    """As ``up`` does (System.start_infra + start_services), on this run's database."""
    os.environ["DATABASE_URL"] = url
    for var in ("KAFKA_BOOTSTRAP_SERVERS", "SMTP_HOST"):
        os.environ.pop(var, None)
    env = {
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
        "PHOTO_DIR": str(home / "photos"),
        "PREDICTIONS_MODEL_DIR": str(home / "models"),
    }
    system = System(home, env=env)
    system.start_infra()
    system.ports = {name: free_port() for name in SERVICES}
    return system


async def run(system: System, url: str, args: argparse.Namespace) -> dict[str, Any]:
    bootstrap = system.env["KAFKA_BOOTSTRAP_SERVERS"]
    await ensure_topics(ServiceSettings(kafka_bootstrap_servers=bootstrap))
    u = make_url(url)
    dsn = f"postgresql://{u.username}@{u.host}:{u.port or 5432}/{u.database}"
    await asyncio.to_thread(system.start_services, None, system.home / "logs")
    await asyncio.to_thread(system.wait_healthy, 240)
    listener = Listener(bootstrap)
    procs = Processes(system, dsn, listener)
    sender, lag = Sender(bootstrap), LagProbe(bootstrap)
    await sender.producer.start()
    report: dict[str, Any] = {"load_average": [os.getloadavg()], "rates": []}
    try:
        idle, counted = await procs.snapshot(), await batch_metrics(system)
        ids = [str(uuid.uuid4()) for _ in range(args.orders)]
        report["planning"] = await place_and_plan(sender, listener, ids, args.plan_timeout)
        planned = await procs.snapshot()
        report["planning"]["processes"] = usage(idle, planned)
        report["planning"]["batches"] = batches(counted, await batch_metrics(system))
        report["planning"]["rss_per_order_kib"] = {
            n: round((planned[n][1] - idle[n][1]) * 1024 / len(ids), 2) for n in SERVICES
        }
        report["load_average"].append(os.getloadavg())
        offset = 0
        for rate in args.rates:
            before, counted = await procs.snapshot(), await batch_metrics(system)
            result = await one_rate(sender, listener, lag, ids, offset, rate, args.seconds)
            result["processes"] = usage(before, await procs.snapshot())
            result["batches"] = batches(counted, await batch_metrics(system))
            result["load_average"] = os.getloadavg()
            report["rates"].append(result)
            offset += -(-result["reports"] // len(ids))
            await asyncio.sleep(1)
    finally:
        await sender.producer.stop()
        await lag.close()
        listener.stop()
    return report


def table(report: dict[str, Any]) -> str:
    p = report["planning"]
    lines = [
        f"load average at start {report['load_average'][0][0]:.1f}; cores {os.cpu_count()}",
        f"planning: {p['orders']} orders placed + assigned, {p['planned']} planned in "
        f"{p['placed_to_planned_s']}s = {p['plans_per_s']} orders/s end to end",
        "  from the last assignment sent (p50/p95/p99 ms): stages_initialized "
        + "/".join(str(p["assigned_to_stages_initialized_ms"][q]) for q in ("p50", "p95", "p99"))
        + f"; first alert ({p['assigned_to_first_alert_ms']['n']} orders) "
        + "/".join(str(p["assigned_to_first_alert_ms"][q]) for q in ("p50", "p95", "p99")),
        "  RSS MiB after planning (KiB per order): " + ", ".join(
            f"{n} {p['processes'][n]['rss_mib']} ({p['rss_per_order_kib'][n]})" for n in SERVICES
        ),
        "",
        f"{'rate/s':>7} {'handled/s':>9} {'lag':>6} {'drain s':>7} {'kept up':>7}  "
        f"{'event p50/p95/p99 ms':>24}  {'alerts':>6} {'alert p50/p95/p99 ms':>24}",
    ]  # fmt: skip
    for r in report["rates"]:
        e, a = r["production_ms"], r["alert_ms"]
        lines.append(
            f"{r['rate']:>7} {r['handled_per_s']:>9} {r['lag_at_stop']:>6} {r['drain_s']:>7} "
            f"{'yes' if r['kept_up'] else 'NO':>7}  {e['p50']}/{e['p95']}/{e['p99']:>8}  "
            f"{a['n']:>6} {a['p50']}/{a['p95']}/{a['p99']}"
        )
    for r in report["rates"]:
        lines.append(f"  CPU s / RSS MiB at {r['rate']}/s (load {r['load_average'][0]:.1f}): " + ", ".join(
            f"{n} {u['cpu_s']}/{u['rss_mib']}" for n, u in r["processes"].items()
        ))  # fmt: skip
    for phase in [p, *report["rates"]]:
        lines.append(f"  batches at {phase.get('rate', 'planning')} (n, mean size, mean ms, busy s): " + ", ".join(
            f"{n} {b['batches']:.0f}/{b['mean_size']}/{b['mean_ms']}/{b['busy_s']}"
            for n, b in phase["batches"].items()
        ))  # fmt: skip
    for r in report["rates"]:
        e, a = r["production_published_ms"], r["alert_published_ms"]
        lines.append(
            f"  at {r['rate']}/s, send to published by the service (record timestamp) p50/p95/p99"
            f" ms: event {e['p50']}/{e['p95']}/{e['p99']}, alert {a['p50']}/{a['p95']}/{a['p99']}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=None, help="default 10000 (--scale 100000)")
    parser.add_argument("--rates", default="500,2000,5000", help="reports/s, comma-separated")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long each rate runs")
    parser.add_argument("--scale", action="store_true", help="only place and plan; RSS per order")
    parser.add_argument("--plan-timeout", type=float, default=None, help="seconds for planning")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    args.orders = args.orders or (100_000 if args.scale else 10_000)
    args.rates = [] if args.scale else [int(r) for r in args.rates.split(",") if r]
    args.plan_timeout = args.plan_timeout or max(120.0, args.orders / 50)
    need = sum(int(r * args.seconds) for r in args.rates) // args.orders + 1
    if need > 99:
        sys.exit(f"{need} reports per order would be needed: use more --orders")
    home = Path(tempfile.mkdtemp(prefix="pipeline_bench_"))
    with scratch_database(SERVER, "pipeline_bench") as url:
        system = start_system(home, url)
        try:
            report = asyncio.run(run(system, url, args))
        finally:
            system.stop()
    report["command"] = " ".join(sys.argv)
    print(json.dumps(report, indent=2) if args.json else table(report))
    print(f"logs in {home / 'logs'}", file=sys.stderr)


if __name__ == "__main__":
    main()
