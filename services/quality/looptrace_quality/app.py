"""The quality service: inspections, AQL sampling plans, defects, supplier severity."""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any

from fastapi import FastAPI

from looptrace_quality import retention
from looptrace_quality.api import router
from looptrace_quality.config import QualitySettings
from looptrace_quality.handlers import consumer_groups
from looptrace_quality.models import plumbing
from looptrace_shared import archive
from looptrace_shared.runtime import Runtime, ServiceSpec, create_service_app


def warm_screening_model(rt: Runtime[Any, Any]) -> None:
    """With ``SCREENING_PRELOAD``: load the screening model (training the synthetic baseline
    when there is none) in the background, so the first photo does not wait for it and
    start-up is not held up. Without it (the default) the model and scikit-learn (about
    150 MB) load at the first photo."""
    if not rt.settings.screening_preload:
        return
    from looptrace_quality.screening import store

    path = rt.settings.screening_model_path
    threading.Thread(
        target=store.current, args=(path,), name="screening-model", daemon=True
    ).start()


SPEC = ServiceSpec(
    name="quality",
    plumbing=plumbing,
    groups=consumer_groups,
    routers=[router],
    on_started=warm_screening_model,
    publishes=[
        "quality.inspection_scheduled",
        "quality.inspection_passed",
        "quality.inspection_failed",
        "quality.supplier_severity_changed",
        "quality.inline_check_recorded",
        "quality.photo_screened",
    ],
)


def load_settings() -> QualitySettings:
    return QualitySettings()


def create_app(settings: QualitySettings | None = None) -> FastAPI:
    settings = settings or load_settings()
    spec = replace(SPEC, periodic=archive.periodic(settings, retention.scheduled))
    return create_service_app(settings, spec)
