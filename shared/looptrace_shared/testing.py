"""Test infrastructure: where the broker and the database come from.

Order of preference, for each: the environment variable (``KAFKA_BOOTSTRAP_SERVERS``,
``DATABASE_URL``); testcontainers when a Docker engine answers (checked in < 1 s);
else the embedded ones (tansu; PostgreSQL on 127.0.0.1:5432 if it answers, else a
private cluster started from the PostgreSQL binaries).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import AsyncEngine

from looptrace_shared.embedded import Process, port_open, start_postgres, start_tansu


def docker_available(timeout: float = 0.8) -> bool:
    """True when a Docker engine answers on its socket within ``timeout`` seconds."""
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    if not host.startswith("unix://"):
        return False
    path = host.removeprefix("unix://")
    if not Path(path).exists():
        return False
    try:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(timeout)
            s.connect(path)
            s.sendall(b"GET /_ping HTTP/1.0\r\n\r\n")
            return b"OK" in s.recv(1024)
    except OSError:
        return False


@dataclass
class Infra:
    kafka: str
    server_url: str  # postgresql+asyncpg://... without a database name applied yet
    cleanups: list[Any] = field(default_factory=list)

    def close(self) -> None:
        for fn in reversed(self.cleanups):
            with contextlib.suppress(Exception):
                fn()


def _kafka(infra_cleanups: list[Any], tmp: Path) -> str:
    if env := os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        return env
    if docker_available():
        from testcontainers.kafka import KafkaContainer

        container = KafkaContainer().with_kraft()
        container.start()
        infra_cleanups.append(container.stop)
        return str(container.get_bootstrap_server())
    proc: Process = start_tansu(log=tmp / "tansu.log")
    infra_cleanups.append(proc.stop)
    return proc.address


def _postgres(infra_cleanups: list[Any], tmp: Path) -> str:
    if env := os.environ.get("DATABASE_URL"):
        return env
    if docker_available():
        from testcontainers.postgres import PostgresContainer

        container = PostgresContainer("postgres:16", driver="asyncpg")
        container.start()
        infra_cleanups.append(container.stop)
        return str(container.get_connection_url())
    if port_open("127.0.0.1", 5432):
        return "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
    proc = start_postgres(tmp / "pgdata")
    infra_cleanups.append(proc.stop)
    return f"postgresql+asyncpg://postgres@{proc.address}/postgres"


@contextlib.contextmanager
def infrastructure(tmp: Path) -> Iterator[Infra]:
    cleanups: list[Any] = []
    try:
        infra = Infra(_kafka(cleanups, tmp), _postgres(cleanups, tmp), cleanups)
        yield infra
    finally:
        Infra("", "", cleanups).close()


def with_database(url: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(database=name).render_as_string(hide_password=False)


@contextlib.contextmanager
def scratch_database(server_url: str, prefix: str = "looptrace_test") -> Iterator[str]:
    """A fresh database on the server, dropped afterwards."""
    import asyncpg
    from sqlalchemy.engine import make_url

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    u = make_url(server_url)
    kw = {"host": u.host, "port": u.port or 5432, "user": u.username, "password": u.password}

    async def run(sql: str) -> None:
        conn = await asyncpg.connect(database="postgres", **kw)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    try:
        yield with_database(server_url, name)
    finally:
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def fresh_schema(database_url: str, metadata: MetaData) -> AsyncEngine:
    """An engine on ``database_url`` whose ``metadata`` schema was just dropped and created
    again: its tables exist and are empty. The caller disposes of the engine."""
    from looptrace_shared.db import make_engine

    engine = make_engine(database_url)
    async with engine.begin() as conn:
        await conn.execute(text(f"DROP SCHEMA IF EXISTS {metadata.schema} CASCADE"))
        await conn.execute(text(f"CREATE SCHEMA {metadata.schema}"))
        await conn.run_sync(metadata.create_all)
    return engine


def unique_topic_suffix() -> str:
    return uuid.uuid4().hex[:8]


@contextlib.asynccontextmanager
async def serving(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """Run a service app in-process (its lifespan: migrations, broker, relay) with an HTTP client."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


def broker_settings(database_url: str, kafka_bootstrap: str) -> dict[str, Any]:
    """Settings for a service under test against the embedded broker (fast group joins)."""
    return {
        "database_url": database_url,
        "kafka_bootstrap_servers": kafka_bootstrap,
        "kafka_session_timeout_ms": 2000,
        "kafka_heartbeat_interval_ms": 500,
    }


async def eventually(check: Callable[[], Any], timeout_s: float = 30) -> None:
    """Wait until ``check()`` (plain or awaitable) is true; fail after ``timeout_s``."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not true after {timeout_s:g} s: {check}")
        await asyncio.sleep(0.1)


@contextlib.asynccontextmanager
async def upstream_producer(bootstrap: str) -> AsyncIterator[Any]:
    """A plain aiokafka producer, the way an outside system publishes."""
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        yield producer
    finally:
        await producer.stop()


@contextlib.asynccontextmanager
async def running_service(
    create_app: Callable[[Any], Any], settings: Any
) -> AsyncIterator[tuple[Any, Any, httpx.AsyncClient]]:
    """A service in process against the real broker and PostgreSQL its ``settings`` name, with
    an upstream producer: what the services' ``running`` fixtures yield (settings, producer,
    HTTP client)."""
    async with (
        serving(create_app(settings)) as http,
        upstream_producer(settings.kafka_bootstrap_servers) as producer,
    ):
        yield settings, producer, http


def bearer(settings: Any, role: str, subject: str = "u-1") -> dict[str, str]:
    """The Authorization header of a user with ``role`` and id ``subject``."""
    from looptrace_shared.auth import mint_token

    return {"Authorization": f"Bearer {mint_token(settings.jwt_secret, role, subject)}"}


async def order_envelopes(
    bootstrap: str, topic: str, order_id: str, want: int = 1, timeout_s: float = 30
) -> list[dict[str, Any]]:
    """The envelopes about ``order_id`` on ``topic``, read from the start (no consumer group)
    until ``want`` are found or ``timeout_s`` passes — the way an outside consumer sees them."""
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest"
    )
    await consumer.start()
    found: list[dict[str, Any]] = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while len(found) < want and asyncio.get_running_loop().time() < deadline:
            for records in (await consumer.getmany(timeout_ms=300)).values():
                found += [
                    e
                    for e in map(json.loads, (r.value for r in records))
                    if e["subject"] == order_id
                ]
    finally:
        await consumer.stop()
    return found


async def sql(database_url: str, statement: str, **params: Any) -> list[Any]:
    """Run one SQL statement on its own connection (and commit); its rows, if any."""
    from looptrace_shared.db import make_engine

    engine = make_engine(database_url, pool_size=1)
    try:
        async with engine.begin() as conn:
            result = await conn.execute(text(statement), params)
            return list(result) if result.returns_rows else []
    finally:
        await engine.dispose()


async def run_retention(
    retention: Any, database_url: str, dry_run: bool = False, **overrides: Any
) -> Any:
    """A service's ``Retention`` run once against ``database_url`` (settings ``overrides``)."""
    from looptrace_shared.db import make_engine

    settings = retention.load_settings(database_url=database_url, **overrides)
    engine = make_engine(database_url, pool_size=1)
    try:
        return await retention.run(engine, settings, dry_run)
    finally:
        await engine.dispose()
