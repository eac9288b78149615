"""`python3 dev.py serve orders` stopped by SIGTERM in the middle of a stream of batches: the
batch in flight is finished and committed, the relay flushes, exit 0; nothing lost or doubled."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from looptrace_shared.embedded import Process, free_port, start_tansu
from looptrace_shared.testing import Infra, scratch_database

from .conftest import PYTHON, ROOT, order_placed

pytestmark = pytest.mark.e2e
N = 1200
INBOUND = "orders.inbound.v1"


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Process]:
    """A broker of its own: no other test's consumers join this test's groups."""
    proc = start_tansu(free_port(), tmp_path / "tansu.log")
    yield proc
    proc.stop()


def serve(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [PYTHON, str(ROOT / "dev.py"), "serve", "orders"],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


async def _sql(url: str, query: str) -> Any:
    conn = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        return await conn.fetchval(query)
    except asyncpg.UndefinedTableError:
        return 0
    finally:
        await conn.close()


def sql(url: str, query: str) -> int:
    return int(asyncio.run(_sql(url, query)) or 0)


async def _publish(bootstrap: str) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20)
    await producer.start()
    try:
        for _ in range(N):
            oid = str(uuid.uuid4())
            await producer.send(INBOUND, order_placed(oid), key=oid.encode())
        await producer.flush()
    finally:
        await producer.stop()


async def _committed(bootstrap: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        tps = [TopicPartition(INBOUND, p) for p in range(6)]
        offsets = await admin.list_consumer_group_offsets("orders", partitions=tps)
    finally:
        await admin.close()
    return sum(max(0, o.offset) for o in offsets.values())


async def _created_events(bootstrap: str) -> Counter[str]:
    consumer = AIOKafkaConsumer(
        "orders.events.v1", bootstrap_servers=bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    seen: Counter[str] = Counter()
    try:
        while batch := await consumer.getmany(timeout_ms=1500):
            for records in batch.values():
                for r in records:
                    event = json.loads(r.value)
                    if event["type"] == "order.created":
                        seen[event["subject"]] += 1
    finally:
        await consumer.stop()
    return seen


def wait_until(check: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"not after {timeout:.0f}s: {what}")


def test_sigterm_mid_batch_loses_and_doubles_nothing_and_exits_0(
    infra: Infra, broker: Process, tmp_path: Path
) -> None:
    with scratch_database(infra.server_url, "looptrace_proc") as url:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LOOPTRACE_")}
        env.update(
            DATABASE_URL=url,
            KAFKA_BOOTSTRAP_SERVERS=broker.address,
            KAFKA_SESSION_TIMEOUT_MS="2000",
            KAFKA_HEARTBEAT_INTERVAL_MS="500",
            KAFKA_MAX_BATCH="50",
            HTTP_PORT=str(free_port()),
        )
        orders = "SELECT count(*) FROM orders.orders"
        asyncio.run(_publish(broker.address))
        proc = serve(env, tmp_path / "orders.log")
        try:
            wait_until(lambda: sql(url, orders) >= 100, 120, "orders consuming")
            proc.send_signal(signal.SIGTERM)  # to dev.py, which passes it on
            assert proc.wait(60) == 0
            at_stop = sql(url, orders)
            assert 0 < at_stop < N, "the stop came after the stream had ended"
            # every committed offset is a processed message and every processed one is committed
            assert asyncio.run(_committed(broker.address)) == at_stop
            assert sql(url, "SELECT count(*) FROM orders.outbox") == 0  # the relay flushed
            created = asyncio.run(_created_events(broker.address))
            assert len(created) == at_stop and set(created.values()) == {1}
            log = (tmp_path / "orders.log").read_text()
            assert "finishing the batch in flight" in log and "orders stopped" in log

            proc = serve(env, tmp_path / "orders.log")  # the rest, then a SIGINT (kill -INT)
            wait_until(lambda: sql(url, orders) == N, 120, f"all {N} orders")
            wait_until(lambda: sql(url, "SELECT count(*) FROM orders.outbox") == 0, 30, "relay")
            proc.send_signal(signal.SIGINT)
            assert proc.wait(60) == 0
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        created = asyncio.run(_created_events(broker.address))
        assert len(created) == N and set(created.values()) == {1}
        placed = "SELECT count(*) FROM orders.status_history WHERE to_status = 'placed'"
        assert sql(url, placed) == N
        assert asyncio.run(_committed(broker.address)) == N
