"""The quality service: inspections, AQL sampling plans, defects, supplier severity."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from looptrace_quality.api import router
from looptrace_quality.config import QualitySettings
from looptrace_quality.handlers import consumer_groups
from looptrace_quality.models import Base, plumbing
from looptrace_shared.runtime import ServiceSpec, create_service_app

SPEC = ServiceSpec(
    name="quality",
    metadata=Base.metadata,
    plumbing=plumbing,
    migrations=Path(__file__).parent / "migrations",
    groups=consumer_groups,
    routers=[router],
    publishes=[
        "quality.inspection_scheduled",
        "quality.inspection_passed",
        "quality.inspection_failed",
        "quality.supplier_severity_changed",
        "quality.photo_screened",
    ],
)


def load_settings() -> QualitySettings:
    return QualitySettings()


def create_app(settings: QualitySettings | None = None) -> FastAPI:
    return create_service_app(settings or load_settings(), SPEC)
