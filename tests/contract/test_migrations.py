"""Each service's migrations build exactly its models, and downgrade cleanly."""

from __future__ import annotations

import asyncio
import importlib

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from looptrace_shared.migrations import alembic_config, migrate
from looptrace_shared.system import SERVICES, migrations_dir
from looptrace_shared.testing import scratch_database

pytestmark = pytest.mark.integration


def differences(url: str, service: str) -> list[object]:
    metadata = importlib.import_module(f"looptrace_{service}.models").Base.metadata
    schema = metadata.schema

    def compare(conn):  # type: ignore[no-untyped-def]
        ctx = MigrationContext.configure(
            conn,
            opts={
                "include_schemas": True,
                "include_name": lambda name, type_, parent: type_ != "schema" or name == schema,
                "version_table_schema": schema,
            },
        )
        return compare_metadata(ctx, metadata)

    async def run() -> list[object]:
        engine = create_async_engine(url)
        async with engine.connect() as conn:
            found = await conn.run_sync(compare)
        await engine.dispose()
        return list(found)

    return asyncio.run(run())


@pytest.mark.parametrize("service", list(SERVICES))
def test_migrations_match_the_models_and_go_down_and_up(infra, service: str) -> None:  # type: ignore[no-untyped-def]
    with scratch_database(infra.server_url, "looptrace_mig") as url:
        migrate(url, migrations_dir(service))
        assert differences(url, service) == []
        command.downgrade(alembic_config(url, migrations_dir(service)), "base")

        async def tables() -> int:
            engine = create_async_engine(url)
            async with engine.connect() as conn:
                n = await conn.scalar(
                    text(
                        "SELECT count(*) FROM information_schema.tables WHERE table_schema = :s AND table_name <> 'alembic_version'"
                    ),
                    {"s": service},
                )
            await engine.dispose()
            return int(n or 0)

        assert asyncio.run(tables()) == 0
        migrate(url, migrations_dir(service))
        assert differences(url, service) == []
