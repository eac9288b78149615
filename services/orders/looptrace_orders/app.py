"""The orders service: quotes, orders, workflow, supplier assignment, audit trail."""

from __future__ import annotations

from dataclasses import replace

from fastapi import FastAPI

from looptrace_orders import retention
from looptrace_orders.api import router
from looptrace_orders.config import OrdersSettings
from looptrace_orders.handlers import consumer_groups
from looptrace_orders.invoice_api import router as invoice_router
from looptrace_orders.models import plumbing
from looptrace_orders.shipping_api import router as shipping_router
from looptrace_shared import archive
from looptrace_shared.runtime import ServiceSpec, app_factories, create_service_app

SPEC = ServiceSpec(
    name="orders",
    plumbing=plumbing,
    groups=consumer_groups,
    routers=[router, shipping_router, invoice_router],
    publishes=[
        "order.created",
        "order.supplier_assigned",
        "order.status_changed",
        "order.shipment_recorded",
        "order.shipment_updated",
        "order.invoice_status_changed",
    ],
)


def build_app(settings: OrdersSettings) -> FastAPI:
    spec = replace(SPEC, periodic=archive.periodic(settings, retention.scheduled))
    return create_service_app(settings, spec)


load_settings, create_app = app_factories(OrdersSettings, build_app)
