"""`up` restarts a service that died, refuses to start over a run still alive, and `down`
stops that run; Ctrl-C with events in flight drains them, so the next `up` loses nothing."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
import uuid
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer

from .conftest import PYTHON, ROOT, order_placed, supplier_assigned

pytestmark = pytest.mark.e2e
READY = "Ctrl-C stops everything"


def dev(run: Any, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, str(ROOT / "dev.py"), *args],
        cwd=ROOT,
        env=run.env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_up_restarts_a_killed_service_refuses_a_second_run_and_down_stops_it(
    new_run: Any,
) -> None:
    run = new_run(["orders"])
    run.start()
    run.wait_log(READY)
    first = run.pid_of("orders")

    os.kill(first, signal.SIGKILL)
    run.wait_log("orders restarted", timeout=60)
    assert "orders exited with code -9; restarting in 1s (1/5" in run.log()
    deadline = time.monotonic() + 90
    url = f"http://127.0.0.1:{run.ports['orders']}/health/ready"
    while time.monotonic() < deadline and not _answers(url):
        time.sleep(0.3)
    assert _answers(url), "the restarted orders never became ready"
    assert run.pid_of("orders") != first
    run.note_processes()

    second = dev(run, "up")
    assert second.returncode == 1
    assert "is still running" in second.stdout and f"PID {run.pid_of('up')}" in second.stdout
    assert "python3 dev.py down" in second.stdout

    down = dev(run, "down")
    assert down.returncode == 0, down.stdout + down.stderr
    assert "stopped" in down.stdout
    run.assert_all_gone()
    assert run.log().rstrip().endswith("stopped")  # up itself drained and stopped in order
    assert not run.record_exists()
    assert "nothing running" in dev(run, "down").stdout


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


async def _publish(bootstrap: str, order_ids: list[str]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20)
    await producer.start()
    try:
        for oid in order_ids:
            await producer.send("orders.inbound.v1", order_placed(oid), key=oid.encode())
            await producer.send("orders.inbound.v1", supplier_assigned(oid), key=oid.encode())
        await producer.flush()
    finally:
        await producer.stop()


async def _counts(database_url: str, order_ids: list[str]) -> tuple[int, int]:
    conn = await asyncpg.connect(database_url.replace("+asyncpg", ""))
    try:
        orders = await conn.fetchval(
            "SELECT count(*) FROM orders.orders WHERE id = ANY($1)", order_ids
        )
        plans = await conn.fetchval(
            "SELECT count(*) FROM production.supplier_orders WHERE order_id = ANY($1)",
            order_ids,
        )
    finally:
        await conn.close()
    return int(orders), int(plans)


def test_ctrl_c_with_events_in_flight_then_up_again_loses_nothing(new_run: Any) -> None:
    """The embedded broker keeps messages in memory: without the drain, the events orders
    relayed but production had not consumed die with the broker."""
    run = new_run(["orders", "production"])
    run.start()
    run.wait_log(READY)
    order_ids = [str(uuid.uuid4()) for _ in range(150)]
    asyncio.run(_publish(f"127.0.0.1:{run.ports['broker']}", order_ids))

    run.signal_group(signal.SIGINT)  # Ctrl-C while orders and production are still busy
    assert run.proc.wait(120) == 0
    run.assert_all_gone()
    log = run.log()
    assert "drained: every outbox is empty and no consumer group lags" in log, log

    again = new_run(["orders", "production"], database=run.env["DATABASE_URL"])
    again.start()
    again.wait_log(READY)
    url = run.env["DATABASE_URL"]
    assert asyncio.run(_counts(url, order_ids)) == (150, 150)
    again.signal_group(signal.SIGINT)
    assert again.proc.wait(60) == 0
    again.assert_all_gone()
