"""The predictions service: live order features, delay-risk scoring and alerts, model registry."""

from __future__ import annotations

import asyncio
import logging

from fastapi import FastAPI

from looptrace_predictions import quality_services as quc
from looptrace_predictions import services as uc
from looptrace_predictions.analytics.api import router as analytics_router
from looptrace_predictions.analytics.consumer import consumer_groups as analytics_groups
from looptrace_predictions.api import router
from looptrace_predictions.config import PredictionsSettings
from looptrace_predictions.handlers import consumer_groups
from looptrace_predictions.models import plumbing
from looptrace_predictions.quality_scoring import LiveQualityModel
from looptrace_predictions.scoring import LiveModel
from looptrace_shared.runtime import Runtime, ServiceSpec, app_factories, create_service_app

log = logging.getLogger(__name__)
RESCORE_CHUNK = 500


PredictionsRuntime = Runtime[PredictionsSettings, uc.Scoring]


async def load_model(rt: PredictionsRuntime) -> None:
    """Start-up: the active model of the model directory (or the baseline rule)."""
    rt.state.model = await asyncio.to_thread(LiveModel, rt.settings.model_dir)
    rt.state.quality = await asyncio.to_thread(LiveQualityModel, rt.settings.quality_model_dir)
    log.info(
        "predictions scores with %s (quality risk: %s)",
        rt.state.model.version, rt.state.quality.version,
    )  # fmt: skip


async def reload_model(rt: PredictionsRuntime) -> bool:
    """Periodic: swap in newly promoted model versions without a restart."""
    changed = await asyncio.to_thread(rt.state.live.reload)
    if rt.state.quality is not None:
        changed = await asyncio.to_thread(rt.state.quality.reload) or changed
    return changed


async def rescore_open_orders(rt: PredictionsRuntime) -> int:
    """Periodic: assess open orders that had no event today (a target date can pass silently)."""
    total = 0
    while True:
        async with rt.unit_of_work() as uow:
            ctx = rt.state.context(uow, rt.settings.hysteresis_margin)
            done = await uc.rescore_stale(ctx, RESCORE_CHUNK)
            await quc.assess_quality_orders(ctx, list(ctx.rows))
            await uow.commit()
        total += done
        if done < RESCORE_CHUNK:
            return total


def spec(settings: PredictionsSettings) -> ServiceSpec:
    return ServiceSpec(
        name="predictions",
        plumbing=plumbing,
        groups=lambda rt: [*consumer_groups(rt), *analytics_groups(rt)],
        routers=[router, analytics_router],
        periodic=[
            (settings.model_reload_s, reload_model),
            (settings.rescore_interval_s, rescore_open_orders),
        ],
        on_start=load_model,
        publishes=["predictions.delay_risk", "predictions.quality_risk"],
    )


def build_app(settings: PredictionsSettings) -> FastAPI:
    return create_service_app(settings, spec(settings), uc.Scoring())


load_settings, create_app = app_factories(PredictionsSettings, build_app)
