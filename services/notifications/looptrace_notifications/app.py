"""The notifications service: in-app inbox, e-mail delivery, digests, buyer–supplier messages."""

from __future__ import annotations

from dataclasses import replace

from fastapi import FastAPI

from looptrace_notifications.api import router
from looptrace_notifications.config import NotificationsSettings
from looptrace_notifications.digests import send_digests
from looptrace_notifications.dlq_watch import watch_dead_letters
from looptrace_notifications.email_jobs import deliver_due
from looptrace_notifications.handlers import consumer_groups
from looptrace_notifications.models import plumbing
from looptrace_notifications.webhook_api import router as webhook_router
from looptrace_notifications.webhook_sender import Clients, send_due
from looptrace_shared.runtime import ServiceSpec, app_factories, create_service_app

SPEC = ServiceSpec(
    name="notifications",
    plumbing=plumbing,
    groups=consumer_groups,
    routers=[router, webhook_router],
    periodic=[(0.5, deliver_due), (60.0, send_digests), (30.0, watch_dead_letters)],
    publishes=[
        "notifications.notification_sent",
        "notifications.notification_failed",
        "notifications.message_posted",
    ],
)


def build_app(settings: NotificationsSettings) -> FastAPI:
    periodic = [
        (settings.mailer_poll_s, deliver_due),
        (settings.digest_poll_s, send_digests),
        (settings.dlq_watch_s, watch_dead_letters),
        (settings.webhook_poll_s, send_due),
    ]
    return create_service_app(settings, replace(SPEC, periodic=periodic), Clients())


load_settings, create_app = app_factories(NotificationsSettings, build_app)
