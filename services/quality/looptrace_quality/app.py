"""The quality service: inspections, AQL sampling plans, defects, supplier severity."""

from __future__ import annotations

from looptrace_quality.api import router
from looptrace_quality.config import QualitySettings
from looptrace_quality.handlers import consumer_groups
from looptrace_quality.models import plumbing
from looptrace_shared.runtime import ServiceSpec, app_factories

SPEC = ServiceSpec(
    name="quality",
    plumbing=plumbing,
    groups=consumer_groups,
    routers=[router],
    publishes=[
        "quality.inspection_scheduled",
        "quality.inspection_passed",
        "quality.inspection_failed",
        "quality.supplier_severity_changed",
        "quality.inline_check_recorded",
    ],
)

load_settings, create_app = app_factories(QualitySettings, SPEC)
