"""SIGKILL the production process mid-stream, restart it: no progress lost, no effect doubled."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from looptrace_production.plan_codec import decode_plan
from looptrace_shared.system import System
from looptrace_shared.topics import PRODUCTION_EVENTS, PRODUCTION_PROGRESS

pytestmark = pytest.mark.integration

ORDERS, STEPS, STAGES = 50, 10, 8  # knitwear has 8 stages; 10 reports each → 4000 messages


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def messages(order_ids: list[str], base: datetime) -> list[dict[str, object]]:
    """Round-robin over orders: every stage goes 10 %, 20 %, … 100 %."""
    out = []
    for k in range(STAGES * STEPS):
        stage, pct = k // STEPS + 1, (k % STEPS + 1) * 10
        for oid in order_ids:
            out.append(
                {
                    "order_id": oid,
                    "stage": stage,
                    "percentage": pct,
                    "message_id": f"{oid}:{k}",
                    "reported_at": (base + timedelta(seconds=k)).isoformat(),
                }
            )
    return out


async def test_sigkill_mid_stream_loses_nothing_and_doubles_nothing(
    database_url: str,
    kafka_bootstrap: str,
    kit,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    system = System(
        tmp_path,
        env={
            "DATABASE_URL": database_url,
            "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
            "KAFKA_SESSION_TIMEOUT_MS": "2000",
            "KAFKA_HEARTBEAT_INTERVAL_MS": "500",
            "PHOTO_DIR": str(tmp_path / "photos"),
            "SWEEP_INTERVAL_S": "3600",
        },
    )
    system.ports = {"production": free_port()}
    engine = create_async_engine(database_url)
    ids = [str(uuid.uuid4()) for _ in range(ORDERS)]

    async def scalar(sql: str) -> int:
        async with engine.connect() as c:
            return int((await c.execute(text(sql), {"ids": ids})).scalar() or 0)

    logged = "SELECT count(*) FROM production.progress_log WHERE order_id = ANY(:ids)"
    try:
        system.start_service("production", tmp_path / "logs")
        await asyncio.to_thread(system.wait_healthy, 60, ["production"])
        for oid in ids:
            await kit.assign(kit.assignment(oid, "knitwear"))
        planned = "SELECT count(*) FROM production.supplier_orders WHERE order_id = ANY(:ids)"
        await kit.until(lambda: scalar(planned), lambda n: n == ORDERS, what="50 orders planned")
        for oid in ids:  # Final QC passed up front: the QC gate lets stages 6-8 complete
            await kit.pass_inspection(oid, 5, "i-5")
        gated = planned + " AND plan::text LIKE '%\"i-5\"%'"
        await kit.until(lambda: scalar(gated), lambda n: n == ORDERS, what="inspections heard")

        stream = messages(ids, datetime.now(UTC) - timedelta(hours=2))
        half = len(stream) // 2
        await asyncio.gather(
            *[
                await kit.producer.send(PRODUCTION_PROGRESS, *_encoded(kit, m))
                for m in stream[:half]
            ]
        )
        at_kill = await kit.until(
            lambda: scalar(logged), lambda n: n >= 300, what="some progress applied"
        )
        system.kill_service("production", 9)
        print(f"SIGKILL after {at_kill} of {len(stream)} progress messages were applied")
        assert at_kill < len(stream)
        await asyncio.gather(
            *[
                await kit.producer.send(PRODUCTION_PROGRESS, *_encoded(kit, m))
                for m in stream[half:]
            ]
        )
        system.start_service("production", tmp_path / "logs")
        await kit.until(
            lambda: scalar(logged),
            lambda n: n == len(stream),
            timeout=60,
            what="all progress applied",
        )

        unfinished = (
            "SELECT count(*) FROM production.supplier_orders WHERE order_id = ANY(:ids) "
            "AND completed_at IS NULL"
        )
        assert await scalar(unfinished) == 0
        distinct = "SELECT count(DISTINCT (order_id, message_id)) FROM production.progress_log WHERE order_id = ANY(:ids)"
        assert await scalar(distinct) == len(stream)
        plans = "SELECT plan::text FROM production.supplier_orders WHERE order_id = ANY(:ids)"
        async with engine.connect() as c:
            stored = [
                decode_plan(p) for p in (await c.execute(text(plans), {"ids": ids})).scalars()
            ]
        done = [
            s for p in stored for s in p.stages if s.percentage == 100 and s.status == "completed"
        ]
        assert len(stored) == ORDERS and len(done) == ORDERS * STAGES

        def all_completed(records: list) -> bool:  # type: ignore[type-arg]
            return sum(b"production_completed" in r.value for r in records) >= ORDERS

        events = kit.envelopes(
            await kit.read(PRODUCTION_EVENTS, set(ids), all_completed, timeout=60)
        )
        completions: dict[tuple[str, int], set[str]] = defaultdict(set)
        for e in events:
            if e.type == "production.stage_completed":
                completions[(e.subject, e.data["stage_number"])].add(str(e.id))
        assert len(completions) == ORDERS * STAGES
        assert {len(v) for v in completions.values()} == {1}, (
            "one stage_completed effect per (order, stage)"
        )
        progressed = {str(e.id) for e in events if e.type == "production.stage_progressed"}
        assert len(progressed) == len(stream), "one stage_progressed per accepted message"
    finally:
        system.stop()
        await engine.dispose()


def _encoded(kit, m: dict[str, object]) -> tuple[bytes, bytes]:  # type: ignore[no-untyped-def]
    from looptrace_shared.envelope import new_envelope

    oid = str(m["order_id"])
    return new_envelope("ProgressReported", "test", oid, m).to_bytes(), oid.encode()
