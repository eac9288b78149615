"""Settings of the notifications service (environment variables; see the README)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from looptrace_shared.http import ServiceRuntime
from looptrace_shared.ports import SERVICES, local_url
from looptrace_shared.settings import ServiceSettings


class NotificationsSettings(ServiceSettings):
    service_name: str = "notifications"
    http_port: int = SERVICES["notifications"]

    notifications_admin_emails: str = Field(
        default="", description="comma-separated admin e-mails; an admin's user id is the e-mail"
    )
    notifications_inspection_emails: str = Field(
        default="",
        description="comma-separated e-mails of the inspection company (role inspector; its "
        "user id is the e-mail): it hears the quality-risk alerts",
    )
    timeline_base_url: str = Field(
        default=local_url("production"),
        description="production's public URL: e-mail links open <this>/v1/orders/<id>/timeline",
    )
    console_base_url: str = Field(
        default="",
        description="the web console's public URL: when set, e-mail links open the order's "
        "console page <this>/orders/<id> instead of production's timeline",
    )
    notifications_template_checks: int = Field(
        default=4096,
        ge=1,
        description="how many shapes of template context keep their verdict (renders or why "
        "not), so a notification's e-mail is not rendered in full to be checked at each event",
    )
    kafka_batch_lanes: int = Field(default=2, ge=1)
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_tls: bool = False
    smtp_from: str = "LoopTrace <notifications@looptrace.local>"
    smtp_timeout_s: float = 10.0

    mailer_poll_s: float = Field(default=0.5, gt=0, description="how often due e-mails are sent")
    mailer_batch: int = Field(default=50, ge=1, description="e-mails claimed per mailer run")
    mailer_backoff_base_s: float = 1.0
    mailer_backoff_cap_s: float = 300.0
    mailer_lease_s: float = Field(
        default=300.0, description="a delivery stuck in 'sending' this long is retried"
    )
    digest_hour: int = Field(default=8, ge=0, le=23, description="local hour of the daily digest")
    digest_poll_s: float = 60.0
    stream_poll_s: float = 0.5
    dlq_watch_s: float = Field(
        default=30.0, gt=0, description="how often the dead-letter topics are checked for growth"
    )
    dlq_alert_min_new: int = Field(
        default=1, ge=1, description="new dead letters on one topic that trigger an admin alert"
    )

    webhook_poll_s: float = Field(default=0.5, gt=0, description="how often due webhooks are sent")
    webhook_batch: int = Field(default=500, ge=1, description="webhook deliveries claimed a run")
    webhook_concurrency: int = Field(default=64, ge=1, description="requests in flight at once")
    webhook_timeout_s: float = Field(default=10.0, gt=0, description="a slower answer fails")
    webhook_backoff_base_s: float = Field(default=5.0, gt=0, description="first retry delay")
    webhook_backoff_cap_s: float = Field(default=3600.0, gt=0, description="longest retry delay")
    webhook_retry_period_s: float = Field(
        default=259200.0, gt=0, description="a delivery is retried this long, then failed"
    )
    webhook_disable_after: int = Field(
        default=30, ge=1, description="failed attempts in a row that disable a subscription"
    )
    webhook_secret_overlap_s: float = Field(
        default=86400.0, ge=0, description="how long the old secret still signs after a rotation"
    )
    webhook_lease_s: float = Field(
        default=300.0, gt=0, description="a delivery stuck in 'sending' this long is retried"
    )
    webhook_allow_private_targets: bool = Field(
        default=False, description="allow loopback, private and link-local URLs (dev and tests)"
    )

    @property
    def admin_emails(self) -> list[str]:
        return [e.strip() for e in self.notifications_admin_emails.split(",") if e.strip()]

    @property
    def inspection_emails(self) -> list[str]:
        return [e.strip() for e in self.notifications_inspection_emails.split(",") if e.strip()]


# What an HTTP route of this service gets as its runtime (its state is the HTTP clients).
RuntimeDep = ServiceRuntime[NotificationsSettings, Any]
