"""Alembic per service: each schema has its own migrations and version table.

A service's ``migrations/env.py`` is two lines: it calls :func:`run_env` with its metadata.
Migrations run under an advisory lock, so replicas starting together don't race.
"""

from __future__ import annotations

import asyncio
import zlib
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine


def alembic_config(database_url: str, script_location: Path) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def migrate(database_url: str, script_location: Path, revision: str = "head") -> None:
    """Upgrade one service schema (blocking; call via ``asyncio.to_thread`` from async code)."""
    command.upgrade(alembic_config(database_url, script_location), revision)


def run_env(metadata: MetaData) -> None:
    """Body of every service's ``env.py`` (online mode, asyncpg)."""
    schema = metadata.schema
    assert schema, "service metadata must name its schema"
    url = context.config.get_main_option("sqlalchemy.url")
    assert url

    def run(connection: Connection) -> None:
        lock = zlib.crc32(f"migrate:{schema}".encode()) % (2**31)
        connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": lock})
        try:
            connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
            connection.commit()
            context.configure(
                connection=connection,
                target_metadata=metadata,
                version_table_schema=schema,
                include_schemas=True,
                include_name=lambda name, type_, parent: type_ != "schema" or name == schema,
            )
            with context.begin_transaction():
                context.run_migrations()
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": lock})
            connection.commit()

    async def main() -> None:
        engine = create_async_engine(url, poolclass=pool.NullPool)
        async with engine.connect() as conn:
            await conn.run_sync(run)
        await engine.dispose()

    asyncio.run(main())


def make_revision(database_url: str, script_location: Path, message: str) -> None:
    """Autogenerate a new revision by comparing the models with the (migrated) database."""
    cfg = alembic_config(database_url, script_location)
    command.upgrade(cfg, "head")
    command.revision(cfg, message=message, autogenerate=True)
