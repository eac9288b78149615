"""The embedded default starts its own broker and PostgreSQL when none is configured."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest
from aiokafka.admin import AIOKafkaAdminClient

from looptrace_shared.embedded import start_postgres, start_tansu

pytestmark = pytest.mark.integration


def test_private_postgres_cluster_starts_and_answers(tmp_path: Path) -> None:
    proc = start_postgres(tmp_path / "pgdata")
    try:
        host, port = proc.address.split(":")

        async def version() -> str:
            conn = await asyncpg.connect(
                host=host, port=int(port), user="postgres", database="postgres"
            )
            try:
                return str(await conn.fetchval("SHOW server_version"))
            finally:
                await conn.close()

        assert asyncio.run(version())[:2].isdigit()
    finally:
        proc.stop()
    assert proc.proc.poll() is not None


def test_tansu_broker_starts_and_creates_topics(tmp_path: Path) -> None:
    proc = start_tansu(log=tmp_path / "tansu.log")
    try:

        async def topics() -> list[str]:
            admin = AIOKafkaAdminClient(bootstrap_servers=proc.address)
            await admin.start()
            try:
                from aiokafka.admin import NewTopic

                await admin.create_topics([NewTopic("probe.events.v1", 2, 1)])
                return list(await admin.list_topics())
            finally:
                await admin.close()

        assert "probe.events.v1" in asyncio.run(topics())
    finally:
        proc.stop()
