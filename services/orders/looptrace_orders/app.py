"""The orders service: quotes, orders, workflow, supplier assignment, audit trail."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from looptrace_orders.api import router
from looptrace_orders.config import OrdersSettings
from looptrace_orders.handlers import consumer_groups
from looptrace_orders.models import Base, plumbing
from looptrace_orders.shipping_api import router as shipping_router
from looptrace_shared.runtime import ServiceSpec, create_service_app

SPEC = ServiceSpec(
    name="orders",
    metadata=Base.metadata,
    plumbing=plumbing,
    migrations=Path(__file__).parent / "migrations",
    groups=consumer_groups,
    routers=[router, shipping_router],
    publishes=[
        "order.created",
        "order.supplier_assigned",
        "order.status_changed",
        "order.shipment_recorded",
        "order.shipment_updated",
    ],
)


def load_settings() -> OrdersSettings:
    return OrdersSettings()


def create_app(settings: OrdersSettings | None = None) -> FastAPI:
    return create_service_app(settings or load_settings(), SPEC)
