"""What bench/pipeline_bench.py measures with: the listener process (first arrival of each
correlation id), CPU seconds and RSS of processes from /proc, each service's batches from its
/metrics, percentiles."""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer
from sqlalchemy.engine import make_url

from looptrace_shared.system import SERVICES, System
from looptrace_shared.topics import ORDERS_EVENTS

EVENTS, ALERTS = "production.events.v1", "predictions.alerts.v1"
CLK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


# ---- the listener: first arrival of each correlation id (its own process) ------------------


def listen(bootstrap: str, conn: Any) -> None:
    asyncio.run(_listen(bootstrap, conn))


async def _listen(bootstrap: str, conn: Any) -> None:
    consumer = AIOKafkaConsumer(
        EVENTS, ALERTS, ORDERS_EVENTS, bootstrap_servers=bootstrap, group_id=None,
        auto_offset_reset="earliest", fetch_max_wait_ms=20, max_partition_fetch_bytes=4 << 20,
    )  # fmt: skip
    await consumer.start()
    first: dict[str, dict[str, tuple[float, float]]] = {EVENTS: {}, ALERTS: {}}
    types: dict[str, int] = {}
    last: dict[str, float] = {}
    conn.send("ready")
    while True:
        for records in (await consumer.getmany(timeout_ms=20)).values():
            now = time.time()
            for r in records:
                h = dict(r.headers or ())
                kind = h.get("type", b"?").decode()
                types[kind] = types.get(kind, 0) + 1
                last[kind] = now
                seen = first.get(r.topic)
                corr = h.get("correlation_id")
                if seen is not None and corr is not None:
                    seen.setdefault(corr.decode(), (now, r.timestamp / 1000))
        while conn.poll():
            ask = conn.recv()
            if ask == "stop":
                await consumer.stop()
                return
            if ask == "counts":
                conn.send((types, last))
            else:  # a correlation-id prefix: arrivals of those, then forget them
                got = {
                    t: {c: at for c, at in seen.items() if c.startswith(ask)}
                    for t, seen in first.items()
                }
                for t, sub in got.items():
                    for c in sub:
                        first[t].pop(c, None)
                conn.send(got)


class Listener:
    def __init__(self, bootstrap: str) -> None:
        self.conn, child = mp.Pipe()
        self.proc = mp.get_context("spawn").Process(target=listen, args=(bootstrap, child))
        self.proc.start()
        assert self.conn.recv() == "ready"

    def ask(self, what: str) -> Any:
        self.conn.send(what)
        return self.conn.recv()

    def stop(self) -> None:
        self.conn.send("stop")
        self.proc.join(10)


# ---- processes: CPU seconds and RSS from /proc -------------------------------------------------


def proc_stat(pid: int) -> tuple[float, float] | None:
    """(CPU seconds user+system, RSS MiB) of one process, None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
        rss_pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLK, rss_pages * PAGE / 2**20


class Processes:
    """The processes measured: services, broker, this database's PostgreSQL backends, us."""

    def __init__(self, system: System, dsn: str, listener: Listener) -> None:
        self.fixed = {name: p.pid for name, p in system.services.items()}
        self.fixed.update({p.name: p.proc.pid for p in system.infra})
        self.fixed["bench"], self.fixed["bench-listener"] = os.getpid(), listener.proc.pid  # type: ignore[assignment]
        self.dsn, self.db = dsn, make_url(dsn).database

    async def snapshot(self) -> dict[str, tuple[float, float]]:
        out = {n: s for n, pid in self.fixed.items() if (s := proc_stat(pid))}
        c = await asyncpg.connect(self.dsn)
        try:
            rows = await c.fetch(
                "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                self.db,
            )
        finally:
            await c.close()
        stats = [s for r in rows if (s := proc_stat(r["pid"]))]
        out["postgres"] = (sum(s[0] for s in stats), sum(s[1] for s in stats))
        return out


def usage(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, float]]:
    return {
        n: {"cpu_s": round(cpu - before.get(n, (0.0, 0.0))[0], 2), "rss_mib": round(rss, 1)}
        for n, (cpu, rss) in after.items()
    }


async def batch_metrics(system: System) -> dict[str, tuple[float, float, float]]:
    """Per service: (batches, messages, seconds handling them) from its /metrics so far."""
    wanted = ("looptrace_batch_handler_seconds_sum", "looptrace_batch_handler_seconds_count",
              "looptrace_batch_size_sum")  # fmt: skip
    out = {}
    async with httpx.AsyncClient(timeout=10) as http:
        for name in SERVICES:
            values = dict.fromkeys(wanted, 0.0)
            for line in (await http.get(system.url(name) + "/metrics")).text.splitlines():
                metric = line.split("{", 1)[0]
                if metric in values:
                    values[metric] += float(line.rsplit(" ", 1)[1])
            out[name] = (values[wanted[1]], values[wanted[2]], values[wanted[0]])
    return out


def batches(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, float]]:
    out = {}
    for n, (count, msgs, secs) in after.items():
        c, m, s = count - before[n][0], msgs - before[n][1], secs - before[n][2]
        out[n] = {"batches": c, "mean_size": round(m / c, 1) if c else 0,
                  "mean_ms": round(s / c * 1000, 1) if c else 0, "busy_s": round(s, 2)}  # fmt: skip
    return out


def percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"n": 0, "p50": None, "p95": None, "p99": None}
    v = sorted(values)
    pick = lambda q: round(v[min(len(v) - 1, int(q * len(v)))] * 1000, 1)  # noqa: E731
    return {"n": len(v), "p50": pick(0.50), "p95": pick(0.95), "p99": pick(0.99)}
