"""The batch handler's plan cache never serves a stale or an uncommitted plan (real PostgreSQL)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import looptrace_production
from looptrace_production import repository as repo
from looptrace_production.config import ProductionSettings
from looptrace_production.handlers import consumer_group
from looptrace_production.models import plumbing
from looptrace_production.plan_cache import PlanCache
from looptrace_production.services import Planning, ProductionContext
from looptrace_production.templates import load_templates
from looptrace_shared.db import UnitOfWork, make_engine, make_sessionmaker
from looptrace_shared.messaging.consumer import BatchProcessor
from looptrace_shared.messaging.incoming import Record, parse_record
from looptrace_shared.migrations import migrate

pytestmark = pytest.mark.integration

MIGRATIONS = Path(looptrace_production.__file__).parent / "migrations"
AT = datetime.now(UTC) - timedelta(hours=2)
ORDERS = "orders.events.v1"


def reported(build, oid: str, pct: int, minute: int) -> Record:  # type: ignore[no-untyped-def]
    data = build.progress(oid, 1, pct, AT + timedelta(minutes=minute), message_id=f"{oid}:{minute}")
    return build.record("ProgressReported", oid, data, "production.progress.v1", minute)


@pytest.fixture
async def setup(database_url: str, build):  # type: ignore[no-untyped-def]
    await asyncio.to_thread(migrate, database_url, MIGRATIONS)
    engine = make_engine(database_url, 2)
    settings = ProductionSettings(database_url=database_url)
    cache = PlanCache(100)
    planning = Planning(settings, load_templates(), plans=cache)
    group = consumer_group(planning)
    sessions = make_sessionmaker(engine)
    processor = BatchProcessor(group, sessions, plumbing, settings)
    oid = str(uuid.uuid4())
    assignment = build.assignment(oid, "knitwear")
    await processor.process([build.record("order.supplier_assigned", oid, assignment, ORDERS)])
    assert len(cache) == 1  # planned and committed: cached
    yield processor, sessions, planning, cache, oid
    await engine.dispose()


async def stage_one(sessions, oid: str) -> float:  # type: ignore[no-untyped-def]
    async with sessions() as session:
        order = await repo.find_order(session, oid)
        assert order is not None
        return order.plan.stage(1).percentage


async def test_a_plan_changed_elsewhere_is_read_again(setup, build) -> None:  # type: ignore[no-untyped-def]
    processor, sessions, planning, cache, oid = setup
    async with sessions() as session:  # e.g. an HTTP request or another replica
        ctx = ProductionContext(UnitOfWork(session, plumbing), planning)
        await ctx.preload([oid])
        ctx.orders[oid].plan.stage(1).percentage = 60  # only to tell the versions apart
        ctx.orders[oid].plan.version += 1
        await ctx.save()
        await session.commit()
    # with the stale cached plan (version before, 0 %) the save would fail as a concurrent
    # update and the report would be lost; read afresh, it applies
    await processor.process([reported(build, oid, 70, 2)])
    assert await stage_one(sessions, oid) == 70
    assert len(cache) == 1


async def test_a_plan_changed_by_a_rolled_back_batch_is_not_reused(setup, build) -> None:  # type: ignore[no-untyped-def]
    processor, sessions, planning, cache, oid = setup
    handle = processor.group.handle
    async with sessions() as session:
        uow = UnitOfWork(session, plumbing)
        item = parse_record(reported(build, oid, 80, 1))
        await handle(uow, [item])  # applied in memory and flushed, then rolled back
        await session.rollback()
    assert len(cache) == 0
    await processor.process([reported(build, oid, 30, 2)])  # refused if the 80 % plan were reused
    assert await stage_one(sessions, oid) == 30
    assert len(cache) == 1


async def test_a_plan_dropped_by_the_bound_is_read_from_the_database(database_url, build) -> None:  # type: ignore[no-untyped-def]
    await asyncio.to_thread(migrate, database_url, MIGRATIONS)
    engine = make_engine(database_url, 2)
    settings = ProductionSettings(database_url=database_url, plan_cache_size=1)
    cache = PlanCache(settings.plan_cache_size)
    planning = Planning(settings, load_templates(), plans=cache)
    sessions = make_sessionmaker(engine)
    processor = BatchProcessor(consumer_group(planning), sessions, plumbing, settings)
    try:
        first, second = str(uuid.uuid4()), str(uuid.uuid4())
        for n, oid in enumerate((first, second)):
            assignment = build.assignment(oid, "knitwear")
            await processor.process(
                [build.record("order.supplier_assigned", oid, assignment, ORDERS, n)]
            )
        assert len(cache) == 1  # the bound: the first plan was dropped
        misses = cache.misses
        await processor.process([reported(build, first, 40, 1)])
        assert cache.misses == misses + 1  # not in memory: read from the database …
        assert await stage_one(sessions, first) == 40  # … and the report applied to it
        assert len(cache) == 1
        await processor.process([reported(build, first, 55, 2)])  # now the cached one
        assert cache.hits >= 1 and await stage_one(sessions, first) == 55
    finally:
        await engine.dispose()
