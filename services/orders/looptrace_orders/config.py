"""Settings of the orders service (environment variables; see the README)."""

from __future__ import annotations

from looptrace_shared.settings import ServiceSettings


class OrdersSettings(ServiceSettings):
    service_name: str = "orders"
    http_port: int = 8101
