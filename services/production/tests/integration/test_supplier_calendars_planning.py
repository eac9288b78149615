"""Orders are planned on their supplier's working days, and keep them (real PostgreSQL)."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

import looptrace_production
from looptrace_production import repository as repo
from looptrace_production import services as uc
from looptrace_production.calendar import WorkCalendar
from looptrace_production.config import ProductionSettings
from looptrace_production.handlers import consumer_group
from looptrace_production.models import plumbing
from looptrace_production.plan_cache import PlanCache
from looptrace_production.services import Planning, ProductionContext
from looptrace_production.templates import load_templates
from looptrace_shared.db import UnitOfWork, make_engine, make_sessionmaker
from looptrace_shared.messaging.consumer import BatchProcessor
from looptrace_shared.messaging.incoming import Record
from looptrace_shared.migrations import migrate
from looptrace_shared.topics import ORDERS_EVENTS
from looptrace_shared.topics import PRODUCTION_PROGRESS as PROGRESS

pytestmark = pytest.mark.integration

MIGRATIONS = Path(looptrace_production.__file__).parent / "migrations"
TODAY = datetime(2025, 3, 3, 12, tzinfo=UTC)  # a Monday
TARGET = date(2025, 6, 30)
SAT_WITH_HOLIDAY = WorkCalendar.six_day_week(holidays={date(2025, 6, 9)})

MON_TO_FRI_PLAN = [
    ("2025-05-14", "2025-05-20"),
    ("2025-05-21", "2025-06-05"),
    ("2025-06-06", "2025-06-13"),
    ("2025-06-16", "2025-06-18"),
    ("2025-06-19", "2025-06-20"),
    ("2025-06-23", "2025-06-24"),
    ("2025-06-25", "2025-06-25"),
    ("2025-06-26", "2025-06-26"),
]
SIX_DAY_PLAN = [
    ("2025-05-21", "2025-05-26"),
    ("2025-05-27", "2025-06-10"),  # 12 working days: Saturdays count, Monday 9 June does not
    ("2025-06-11", "2025-06-17"),
    ("2025-06-18", "2025-06-20"),
    ("2025-06-21", "2025-06-23"),  # starts on a Saturday
    ("2025-06-24", "2025-06-25"),
    ("2025-06-26", "2025-06-26"),
    ("2025-06-27", "2025-06-27"),  # Saturday 28 June is a buffer day
]


def assigned(build, oid: str, supplier: str, offset: int) -> Record:  # type: ignore[no-untyped-def]
    knitwear = build.assignment(oid, "knitwear", supplier=supplier, target=TARGET)
    return build.record("order.supplier_assigned", oid, knitwear, ORDERS_EVENTS, offset)


def started(build, oid: str, at: datetime) -> Record:  # type: ignore[no-untyped-def]
    return build.record("ProgressReported", oid, build.progress(oid, 1, 10, at), PROGRESS, 1)


@pytest.fixture
async def world(database_url: str):  # type: ignore[no-untyped-def]
    await asyncio.to_thread(migrate, database_url, MIGRATIONS)
    engine = make_engine(database_url, 2)
    settings = ProductionSettings(database_url=database_url)
    planning = Planning(settings, load_templates(), now=lambda: TODAY)
    yield make_sessionmaker(engine), planning
    await engine.dispose()


def processor(sessions, planning: Planning) -> BatchProcessor:  # type: ignore[no-untyped-def]
    group = consumer_group(replace(planning, plans=PlanCache(100)))
    return BatchProcessor(group, sessions, plumbing, planning.settings)


async def set_calendar(sessions, planning, supplier: str, calendar: WorkCalendar) -> None:  # type: ignore[no-untyped-def]
    async with sessions() as session:
        uow = UnitOfWork(session, plumbing)
        await uc.change_supplier_calendar(
            ProductionContext(uow, planning), supplier, calendar, None
        )
        await session.commit()


async def plan_dates(sessions, oid: str) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    async with sessions() as session:
        order = await repo.find_order(session, oid)
    assert order is not None, f"order {oid} was not planned"
    return [(str(s.forecast_start), str(s.forecast_end)) for s in order.plan.stages]


async def test_a_saturday_factory_with_a_holiday_gets_its_own_schedule(world, build) -> None:  # type: ignore[no-untyped-def]
    sessions, planning = world
    six_day, standard = f"s-sat-{uuid.uuid4()}", f"s-std-{uuid.uuid4()}"
    await set_calendar(sessions, planning, six_day, SAT_WITH_HOLIDAY)
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    await processor(sessions, planning).process(
        [assigned(build, a, six_day, 0), assigned(build, b, standard, 1)]
    )
    assert await plan_dates(sessions, a) == SIX_DAY_PLAN
    assert await plan_dates(sessions, b) == MON_TO_FRI_PLAN


async def test_a_changed_calendar_plans_new_orders_and_old_plans_keep_theirs(world, build) -> None:  # type: ignore[no-untyped-def]
    sessions, planning = world
    supplier, old, new = f"s-sat-{uuid.uuid4()}", str(uuid.uuid4()), str(uuid.uuid4())
    await set_calendar(sessions, planning, supplier, SAT_WITH_HOLIDAY)
    await processor(sessions, planning).process([assigned(build, old, supplier, 0)])
    await set_calendar(sessions, planning, supplier, WorkCalendar())

    await processor(sessions, planning).process([assigned(build, new, supplier, 1)])
    assert await plan_dates(sessions, new) == MON_TO_FRI_PLAN

    # the old plan re-forecasts on the Saturdays (and the holiday) it was planned with
    friday = datetime(2025, 5, 30, 9, tzinfo=UTC)
    later = replace(planning, now=lambda: friday.replace(hour=12))
    await processor(sessions, later).process([started(build, old, friday)])
    assert (await plan_dates(sessions, old))[:3] == [
        ("2025-05-30", "2025-06-04"),  # Mon–Fri would end on 5 June
        ("2025-06-05", "2025-06-19"),
        ("2025-06-20", "2025-06-26"),
    ]
