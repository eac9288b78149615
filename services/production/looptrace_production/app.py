"""The production service: supplier orders, stage plans, progress, delays, photos."""

from __future__ import annotations

import gc

from fastapi import FastAPI

from looptrace_production import retention
from looptrace_production.api import router
from looptrace_production.api_calendars import router as calendars_router
from looptrace_production.api_documents import router as documents_router
from looptrace_production.api_samples import router as samples_router
from looptrace_production.api_suppliers import router as suppliers_router
from looptrace_production.config import ProductionSettings
from looptrace_production.fold_job import fold_utilisation
from looptrace_production.handlers import consumer_groups
from looptrace_production.models import plumbing
from looptrace_production.outgoing import PUBLISHES
from looptrace_production.plan_cache import PlanCache
from looptrace_production.services import Planning
from looptrace_production.sweeper import sweep_delays
from looptrace_production.templates import load_templates
from looptrace_shared import archive
from looptrace_shared.events.suppliers import (
    AssignmentWarned,
    CapacityOverloaded,
    CapacityRecovered,
)
from looptrace_shared.runtime import Runtime, ServiceSpec, app_factories, create_service_app


def tune_gc(settings: ProductionSettings) -> None:
    """Collect cycles less often, and never re-scan what start-up allocated (gc.freeze): the
    plan cache holds tens of thousands of long-lived decoded plans, which Python's default
    thresholds would re-scan over and over (bench/production_bench.py shows the cost)."""
    gc.set_threshold(*settings.gc_threshold)
    gc.freeze()


def spec(planning: Planning) -> ServiceSpec:
    async def sweep(rt: Runtime[ProductionSettings, Planning]) -> None:
        await sweep_delays(rt, planning)

    async def fold(rt: Runtime[ProductionSettings, Planning]) -> None:
        await fold_utilisation(rt, planning)

    return ServiceSpec(
        name="production",
        plumbing=plumbing,
        groups=consumer_groups,
        routers=[router, calendars_router, samples_router, documents_router, suppliers_router],
        periodic=[
            (planning.settings.sweep_interval_s, sweep),
            (planning.settings.utilisation_fold_s, fold),
            *archive.periodic(planning.settings, retention.scheduled),
        ],
        publishes=[
            *PUBLISHES,
            *(e.EVENT_TYPE for e in (CapacityOverloaded, CapacityRecovered, AssignmentWarned)),
        ],
        on_started=lambda rt: tune_gc(planning.settings),
    )


def build_app(settings: ProductionSettings) -> FastAPI:
    plans = PlanCache(settings.plan_cache_size)
    planning = Planning(settings, load_templates(settings.templates_file), plans=plans)
    return create_service_app(settings, spec(planning), planning)


load_settings, create_app = app_factories(ProductionSettings, build_app)
